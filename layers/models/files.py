"""Zoning layer files in (GeoJSON / GeoPackage / zipped Shapefile), and features out as a GeoDataFrame."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from diagioi.geo.crs import WGS84, to_lonlat
from diagioi.geo.errors import EncodingError, InputError, InvalidGeometryError, MissingColumnError, UnknownCRSError
from diagioi.geo.i18n import LANGUAGES, Message, translate
from diagioi.geo.safe_open import VectorFormat, open_vector, read_frame

from .features import _clean_properties, _issue_from_error, validate_feature
from .schema import LayerIssue, LayerKind, ZoningFeature

logger = logging.getLogger(__name__)


def _read_vector(path: str | Path, *, layer: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read a user's layer file through :mod:`geo.safe_open` (GeoJSON, GeoPackage, zipped Shapefile)."""
    path = Path(path)
    name = name or path.name
    try:
        with open_vector(path, name=name) as source:
            # GDAL guesses dates and times in GeoJSON text ("18:00–24:00" would become 18:00): keep text as text.
            options = {"DATE_AS_STRING": "YES"} if source.format is VectorFormat.geojson else {}
            gdf = read_frame(source, layer=layer, **options)
    except UnicodeDecodeError as exc:
        raise EncodingError(Message("error.layer_not_utf8", {"file": name,
                                                             "byte": repr(exc.object[exc.start:exc.start + 1])}),
                            hint=Message("hint.layer_utf8"), context={"file": name}, code="encoding") from exc
    except (OSError, ValueError) as exc:
        raise InputError(Message("error.layer_unreadable", {"file": name, "error": type(exc).__name__}),
                         hint=Message("hint.layer_formats"), context={"file": name}, code="input") from exc
    declared_lonlat = gdf.crs is not None and gdf.crs.equals(WGS84, ignore_axis_order=True)
    gdf = to_lonlat(gdf, name, context={"file": name}, hint=Message("hint.layer_crs"))
    if declared_lonlat and len(gdf) and gdf.geometry.notna().any():
        # GeoJSON without a "crs" member is read as lon/lat; metres in it mean an undeclared CRS.
        min_x, min_y, max_x, max_y = gdf.total_bounds
        if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
            raise UnknownCRSError(
                Message("error.layer_metres", {"file": name, "x": f"{min_x:.6g}…{max_x:.6g}",
                                               "y": f"{min_y:.6g}…{max_y:.6g}"}),
                hint=Message("hint.layer_metres"), context={"file": name}, code="unknown_crs")
    return gdf


def _features_from_frame(gdf: gpd.GeoDataFrame, kind: LayerKind, *, allow_markers: bool,
                         id_column: str | None, issues: list[LayerIssue],
                         skip_missing_geometry: list[dict] | None = None) -> list[ZoningFeature]:
    features: list[ZoningFeature] = []
    attribute_columns = [c for c in gdf.columns if c != gdf.geometry.name]
    for position, (_index, row) in enumerate(gdf.iterrows()):
        properties = _clean_properties({c: row[c] for c in attribute_columns})
        # A file's columns are the union over its features: a null in a column the schema does
        # not name is an absent property, not a value.
        schema_fields = kind.attributes_model.model_fields
        properties = {k: v for k, v in properties.items() if v is not None or k in schema_fields}
        feature_id = properties.get(id_column) if id_column else None
        row_label = str(feature_id) if feature_id is not None else f"row {position + 1}"
        geometry = row[gdf.geometry.name]
        if not isinstance(geometry, BaseGeometry):
            geometry = None  # pandas gives None or NaN for a missing geometry
        if (geometry is None or geometry.is_empty) and skip_missing_geometry is not None:
            skip_missing_geometry.append({"layer": kind.value, "feature": row_label, "name": properties.get("name"),
                                          "reason": "no geometry in the source (location described in words only)"})
            continue
        raw = {"type": "Feature", "id": feature_id,
               "geometry": None if geometry is None else mapping(geometry), "properties": properties}
        try:
            features.append(validate_feature(kind, raw, allow_markers=allow_markers))
        except InputError as exc:
            issues.append(_issue_from_error(row_label, properties.get("name"), exc,
                                            row=None if feature_id is not None else position + 1))
    return features


def _raise_issues(path: Path, kind_label: str, issues: list[LayerIssue], total: int) -> None:
    if not issues:
        return
    summary = {lang: _issues_text(issues, lang) for lang in LANGUAGES}
    kind = {"vi": "quy hoạch", "en": "zoning"} if kind_label == "zoning" else kind_label
    message = Message("error.layer_file_refused", {"file": path.name, "n": len(issues), "total": total,
                                                    "kind": kind, "summary": summary})
    hint = Message("hint.layer_file_refused")
    context = {"file": str(path)}
    # Decided on the English texts, which name the geometry problems the same way whatever the reader's language.
    if any(i.location is not None or "invalid" in i.problem or "accept" in i.problem for i in issues):
        raise InvalidGeometryError(message, issues=issues, hint=hint, context=context, code="invalid_geometry")
    raise InputError(message, hint=hint, context={**context, "issues": [i.to_dict() for i in issues]}, code="input")


def _issues_text(issues: list[LayerIssue], lang: str) -> str:
    """The first five refused features, "row 3 (Chùa …): problem; …", in ``lang``."""
    lines = []
    for issue in issues[:5]:
        label = translate("layers.row", lang, n=issue.row) if issue.row is not None else issue.feature
        problem = translate(issue.message, lang) if issue.message is not None else issue.problem
        lines.append(f"{label} ({issue.name}): {problem}")
    more = translate("layers.more", lang, n=len(issues) - 5) if len(issues) > 5 else ""
    return "; ".join(lines) + more


def read_layer_file(path: str | Path, kind: LayerKind | str, *, layer: str | None = None,
                    id_column: str | None = "id", allow_markers: bool = False,
                    name: str | None = None) -> list[ZoningFeature]:
    """Read a GeoJSON, GeoPackage or zipped Shapefile of one zoning layer, reprojected to EPSG:4326.

    The file is opened by :mod:`geo.safe_open` (its bytes decide the format; VRTs, views and
    links are refused); ``name`` is the user's name for it in messages (an upload's file name).

    Every feature is validated; if any fails, nothing is returned and one error lists all
    of them (:class:`~geo.errors.InvalidGeometryError` with ``issues`` when geometries are
    at fault, else :class:`~geo.errors.InputError`). A file without CRS raises
    :class:`~geo.errors.MissingCRSError`.
    """
    kind = LayerKind.parse(kind)
    path = Path(path)
    gdf = _read_vector(path, layer=layer, name=name)
    if id_column is not None and id_column not in gdf.columns:
        id_column = None
    issues: list[LayerIssue] = []
    features = _features_from_frame(gdf, kind, allow_markers=allow_markers, id_column=id_column, issues=issues)
    _raise_issues(Path(name or path.name), kind.value, issues, len(gdf))
    return features


# --------------------------------------------------------------------------- mixed real file

#: ``layer`` values of the mixed real file and the LayerKind they belong to.
MIXED_LAYER_VALUES: dict[str, LayerKind] = {
    "industrial_cluster": LayerKind.industrial_clusters,
    "tourism_site": LayerKind.tourism_sites,
    "night_street": LayerKind.night_streets,
}

#: Source column → schema attribute, per kind, for the mixed real file.
_MIXED_RENAMES: dict[LayerKind, dict[str, str]] = {
    LayerKind.industrial_clusters: {"area_ha_official": "area_ha", "kind": "source_kind"},
    LayerKind.tourism_sites: {"kind": "category"},
    LayerKind.night_streets: {"kind": "source_kind"},
}


@dataclass
class ZoningImport:
    """Result of importing a mixed zoning file: features per layer plus what was skipped."""

    features: dict[LayerKind, list[ZoningFeature]]
    skipped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def markers(self) -> list[ZoningFeature]:
        return [f for fs in self.features.values() for f in fs if f.is_marker]

    def counts(self) -> dict[str, int]:
        return {kind.value: len(fs) for kind, fs in self.features.items()}


def read_zoning_collection(path: str | Path, *, layer_column: str = "layer",
                           allow_markers: bool = True) -> ZoningImport:
    """Import a file that mixes the three layers, told apart by ``layer_column``.

    Made for ``shared/data/zoning_real_bn_bk.geojson`` (``layer`` = tourism_site /
    industrial_cluster / night_street). Decisions, all reported rather than silent:

    - features with no geometry (the night streets there are described in words only) are
      skipped and listed in ``skipped`` with the reason;
    - industrial clusters given as Points are imported as markers (``geometry_note``),
      because no outline is available; pass ``allow_markers=False`` to refuse them;
    - source columns are mapped onto the schema (``area_ha_official`` → ``area_ha``,
      tourism ``kind`` → ``category``, other ``kind`` → ``source_kind``); every other column
      is kept as an extra attribute (columns that are null for a feature are left out: in a
      mixed file they belong to another layer's schema);
    - a row with an unknown layer value, or a feature failing validation, stops the
      import with one error listing all such rows.
    """
    path = Path(path)
    gdf = _read_vector(path)
    if layer_column not in gdf.columns:
        raise MissingColumnError(Message("error.layer_no_column", {"file": path.name, "column": repr(layer_column)}),
                                 hint=Message("hint.layer_column",
                                              {"values": "industrial_cluster | tourism_site | night_street"}),
                                 context={"file": str(path), "columns": list(gdf.columns)}, code="missing_column")
    issues: list[LayerIssue] = []
    unknown = sorted(set(gdf[layer_column].dropna().astype(str)) - set(MIXED_LAYER_VALUES)
                     - {k.value for k in LayerKind})
    for value in unknown:
        issues.append(LayerIssue(feature=f"{layer_column}={value}", name=None,
                                 problem=f"unknown layer value {value!r}",
                                 message=Message("error.unknown_layer_value", {"value": repr(value)})))
    skipped: list[dict[str, Any]] = []
    features: dict[LayerKind, list[ZoningFeature]] = {kind: [] for kind in LayerKind}
    layer_values = gdf[layer_column].astype(str)
    for value in sorted(set(layer_values) - set(unknown)):
        kind = MIXED_LAYER_VALUES.get(value) or LayerKind(value)
        part = gdf[layer_values == value].drop(columns=[layer_column])
        renames = {src: dst for src, dst in _MIXED_RENAMES[kind].items()
                   if src in part.columns and dst not in part.columns}
        part = part.rename(columns=renames)
        features[kind].extend(_features_from_frame(
            part, kind, allow_markers=allow_markers, id_column="id" if "id" in part.columns else None,
            issues=issues, skip_missing_geometry=skipped))
    _raise_issues(path, "zoning", issues, len(gdf))
    for item in skipped:
        logger.info("skipped %s %r: %s", item["layer"], item["name"], item["reason"])
    return ZoningImport(features=features, skipped=skipped)


# --------------------------------------------------------------------------- frames

def features_to_gdf(features: Iterable[ZoningFeature]) -> gpd.GeoDataFrame:
    """GeoDataFrame (EPSG:4326) of features: ``feature_id, layer, name``, attributes, ``geometry_note``.

    This is the input form of :func:`layers.indicators.compute_indicators` (one frame per kind).
    """
    rows = []
    geometries = []
    for feature in features:
        props = feature.attributes.model_dump(mode="json")
        # Fixed columns last: they describe the feature and must not be shadowed by extras.
        rows.append({**props, "feature_id": feature.feature_id, "layer": feature.kind.value,
                     "name": feature.name, "geometry_note": feature.geometry_note})
        geometries.append(feature.geometry)
    columns = ["feature_id", "layer", "name", "geometry_note"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
    return gpd.GeoDataFrame(frame, geometry=geometries, crs=WGS84)
