"""Zoning layers: their kinds, allowed geometry types and attribute schemas.

Three layers are drawn over the units:

- ``industrial_clusters`` (cụm công nghiệp): Polygon / MultiPolygon outlines;
- ``tourism_sites`` (điểm du lịch): a Point (marker) or a Polygon (site outline);
- ``night_streets`` (tuyến phố đêm): LineString / MultiLineString.

A feature enters the system only through :func:`validate_feature` (one GeoJSON Feature)
or :func:`read_layer_file` (a GeoJSON / GeoPackage file), so every stored
:class:`ZoningFeature` has a valid EPSG:4326 geometry of an allowed type and attributes
checked by the pydantic model of its kind. Attributes the schema does not name (source,
OSM id, notes...) are kept as they are: data is never dropped silently.

**Markers.** Some real sources give only a point for an industrial cluster (for example
the centre of an OpenStreetMap outline). Strict validation refuses a Point for a cluster
because a cluster's area share cannot be computed from it. With ``allow_markers=True``
such a Point is accepted as a *marker*: the feature keeps its point, carries a
``geometry_note`` that says so, is counted by :mod:`layers.indicators` in the unit that
contains it, and contributes no area. :func:`read_zoning_collection` (the loader of the
mixed real file in ``shared/data``) uses this mode and reports the markers.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from diagioi.geo.crs import WGS84, to_lonlat
from diagioi.geo.errors import (EncodingError, InputError, InvalidGeometryError, MissingColumnError, UnknownCRSError)
from diagioi.geo.i18n import catalogue
from diagioi.geo.safe_open import VectorFormat, open_vector, read_frame

logger = logging.getLogger(__name__)



class LayerKind(StrEnum):
    """The zoning layers drawn over the units (ASCII values, used in URLs and files)."""

    industrial_clusters = "industrial_clusters"
    tourism_sites = "tourism_sites"
    night_streets = "night_streets"

    @property
    def label_vi(self) -> str:
        return catalogue("vi")[f"zoning.{self.value}"]

    @property
    def label_en(self) -> str:
        return catalogue("en")[f"zoning.{self.value}"]

    @property
    def geometry_types(self) -> tuple[str, ...]:
        """GeoJSON geometry types a feature of this layer may have (strict mode)."""
        return ALLOWED_GEOMETRY_TYPES[self]

    @property
    def attributes_model(self) -> type["LayerAttributes"]:
        return ATTRIBUTE_MODELS[self]

    @classmethod
    def parse(cls, value: object) -> "LayerKind":
        """Accept the layer id, its singular form (``tourism_site``) or the Vietnamese label."""
        if isinstance(value, LayerKind):
            return value
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        for kind in cls:
            if key in (kind.value, kind.value.rstrip("s"), kind.label_vi.lower().replace(" ", "_")):
                return kind
        raise InputError(
            f"unknown zoning layer {value!r}",
            hint="use one of " + "|".join(k.value for k in cls),
        )


ALLOWED_GEOMETRY_TYPES: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.industrial_clusters: ("Polygon", "MultiPolygon"),
    LayerKind.tourism_sites: ("Point", "Polygon"),
    LayerKind.night_streets: ("LineString", "MultiLineString"),
}

#: Geometry types accepted in ``allow_markers`` mode on top of the strict ones.
MARKER_GEOMETRY_TYPES: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.industrial_clusters: ("Point",),
    LayerKind.tourism_sites: (),
    LayerKind.night_streets: (),
}

MARKER_NOTE = "point marker: outline unknown; counted in the unit that contains it, no area (chỉ có điểm, chưa có ranh giới)"


class ClusterStatus(StrEnum):
    """Stage of an industrial cluster."""

    planned = "planned"        # quy hoạch
    operating = "operating"    # đang hoạt động

    @property
    def label_vi(self) -> str:
        return {ClusterStatus.planned: "Quy hoạch", ClusterStatus.operating: "Đang hoạt động"}[self]


class TourismRank(StrEnum):
    """Rank of a tourism site (điểm du lịch cấp tỉnh / quốc gia)."""

    provincial = "provincial"
    national = "national"

    @property
    def label_vi(self) -> str:
        return {TourismRank.provincial: "Cấp tỉnh", TourismRank.national: "Cấp quốc gia"}[self]


class LayerAttributes(BaseModel):
    """Attributes shared by every zoning feature: a name; other keys are kept as given."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, use_enum_values=False)

    name: str = Field(min_length=1, max_length=300, description="Tên (required)")


class IndustrialClusterAttributes(LayerAttributes):
    """Cụm công nghiệp. Only ``name`` is required: real sources rarely give the rest."""

    status: ClusterStatus | None = Field(None, description="planned | operating")
    area_ha: float | None = Field(None, gt=0, le=100_000, description="declared area, ha")
    occupancy_pct: float | None = Field(None, ge=0, le=100, description="tỷ lệ lấp đầy, %")
    investor: str | None = Field(None, max_length=300, description="chủ đầu tư")


class TourismSiteAttributes(LayerAttributes):
    """Điểm du lịch. ``rank`` None means not ranked (or unknown)."""

    category: str | None = Field(None, max_length=100, description="e.g. pagoda, craft_village")
    rank: TourismRank | None = Field(None, description="provincial | national")


_HOURS_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class NightStreetAttributes(LayerAttributes):
    """Tuyến phố đêm. ``hours`` is ``HH:MM-HH:MM`` (may pass midnight, ``18:00-02:00``)."""

    ward: str | None = Field(None, max_length=300, description="phường")
    hours: str | None = Field(None, description="opening hours, HH:MM-HH:MM")

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _HOURS_PATTERN.match(value)
        if not match:
            raise ValueError(f"hours must look like 18:00-23:30, got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"hours {value!r} are not clock times")
        return value


ATTRIBUTE_MODELS: dict[LayerKind, type[LayerAttributes]] = {
    LayerKind.industrial_clusters: IndustrialClusterAttributes,
    LayerKind.tourism_sites: TourismSiteAttributes,
    LayerKind.night_streets: NightStreetAttributes,
}


@dataclass(frozen=True)
class ZoningFeature:
    """One validated feature of a zoning layer (geometry in EPSG:4326)."""

    kind: LayerKind
    geometry: BaseGeometry
    attributes: LayerAttributes
    feature_id: str | None = None
    geometry_note: str | None = None

    @property
    def name(self) -> str:
        return self.attributes.name

    @property
    def is_marker(self) -> bool:
        """True when the geometry is a point standing for an outline we do not have."""
        return self.geometry_note is not None

    def properties(self) -> dict[str, Any]:
        """JSON-ready attributes (enums as their values, extras included)."""
        props = self.attributes.model_dump(mode="json")
        if self.geometry_note is not None:
            props["geometry_note"] = self.geometry_note
        return props

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON Feature (EPSG:4326)."""
        feature: dict[str, Any] = {"type": "Feature", "geometry": mapping(self.geometry),
                                   "properties": self.properties()}
        if self.feature_id is not None:
            feature["id"] = self.feature_id
        return feature


@dataclass
class LayerIssue:
    """A problem with one feature of an input file (all are reported together)."""

    feature: str          # feature id or row number
    name: str | None
    problem: str
    location: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "name": self.name, "problem": self.problem,
                "location": list(self.location) if self.location else None}


# --------------------------------------------------------------------------- geometry checks

_REASON_LOCATION = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


def invalid_reason_location(reason: str) -> tuple[float, float] | None:
    """Pull the ``[lon lat]`` position out of a ``shapely.is_valid_reason`` text."""
    match = _REASON_LOCATION.search(reason)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def geometry_from_geojson(obj: Any, *, what: str = "geometry") -> BaseGeometry:
    """Build a shapely geometry from a GeoJSON geometry object, refusing malformed input.

    Checks: a JSON object with a known ``type`` and ``coordinates``, finite numbers, lon
    in [-180, 180] and lat in [-90, 90], not empty. Validity (self-intersection) is checked
    separately by :func:`require_valid`.
    """
    if not isinstance(obj, Mapping):
        raise InputError(f"{what} must be a GeoJSON object, got {type(obj).__name__}",
                         hint='send {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}')
    geom_type = obj.get("type")
    if geom_type not in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                         "GeometryCollection"):
        raise InputError(f"{what} has no valid GeoJSON geometry type (got {geom_type!r})",
                         hint="use Point, LineString, Polygon or their Multi* forms")
    if geom_type != "GeometryCollection" and "coordinates" not in obj:
        raise InputError(f"{what} of type {geom_type} has no 'coordinates'",
                         hint="GeoJSON geometries carry their positions in 'coordinates'")
    refuse_crs_member(obj, what=what)
    check_geojson_coordinates(obj, what=what)
    try:
        geometry = shape(obj)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise InputError(f"{what} is malformed GeoJSON {geom_type}: {exc}",
                         hint="a Polygon is a list of rings, each a closed list of [lon, lat] positions "
                              "(first position repeated at the end, at least 4 positions)") from exc
    if geometry.is_empty:
        raise InputError(f"{what} is empty", hint="draw or send at least one ring / position")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InputError(f"{what} has non-numeric or infinite coordinates",
                         hint="every position must be two finite numbers [lon, lat]")
    require_lonlat_range(geometry, what=what)
    return geometry


#: Nesting of each geometry type's ``coordinates`` down to the positions (0 = one position).
_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                   "MultiPolygon": 3}
#: Heights beyond this (metres) are not on Earth: refused rather than stored.
MAX_ABS_Z_M = 100_000.0
#: ``crs`` members that only restate GeoJSON's own lon/lat (RFC 7946); any other is refused.
_LONLAT_CRS_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "ogc:crs84", "crs84", "epsg:4326", "urn:ogc:def:crs:epsg::4326"}


def refuse_crs_member(obj: Mapping[str, Any], *, what: str = "geometry") -> None:
    """Refuse a ``crs`` member that names anything but WGS 84 lon/lat: it would otherwise be ignored
    and metres or another datum read as degrees."""
    if not isinstance(obj, Mapping) or "crs" not in obj:
        return
    crs = obj["crs"]
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) and isinstance(
        crs.get("properties"), Mapping) else None
    if isinstance(name, str) and name.strip().lower() in _LONLAT_CRS_NAMES:
        return
    raise UnknownCRSError(f"{what} declares a 'crs' ({name or crs!r}) other than WGS 84 lon/lat",
                          hint="GeoJSON is lon/lat on WGS 84 (RFC 7946): reproject to EPSG:4326 and drop the "
                               "'crs' member, or upload the file (GeoPackage keeps its CRS)",
                          context={"crs": name if isinstance(name, str) else None})


def _position_problem(position: Any) -> str | None:
    if not isinstance(position, (list, tuple)) or not 2 <= len(position) <= 3:
        return "a position must be [lon, lat] or [lon, lat, height]"
    for value in position:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"coordinates must be numbers, got {type(value).__name__} {value!r:.40}"
        if not math.isfinite(value):
            return f"coordinates must be finite numbers, got {value!r}"
    if len(position) == 3 and abs(position[2]) > MAX_ABS_Z_M:
        return f"height {position[2]:.6g} m is not on Earth (at most ±{MAX_ABS_Z_M:,.0f} m)"
    return None


def check_geojson_coordinates(obj: Mapping[str, Any], *, what: str = "geometry") -> None:
    """Check a GeoJSON geometry's ``coordinates`` strictly, before shapely coerces anything.

    Refused: positions that are not 2 or 3 numbers (strings such as ``"105.8"``, booleans,
    NaN/inf), heights beyond ±100 km, nesting that does not match the type, and polygon rings
    that are not closed (shapely would close them silently). Too few positions is left to
    :func:`require_valid`, which says where.
    """
    geom_type = obj.get("type")
    if geom_type == "GeometryCollection":
        geometries = obj.get("geometries")
        if not isinstance(geometries, list):
            raise InputError(f"{what}: a GeometryCollection needs a list 'geometries'",
                             hint="or send a single geometry")
        for member in geometries:
            if not isinstance(member, Mapping) or member.get("type") not in _POSITION_DEPTH:
                raise InputError(f"{what}: a GeometryCollection may hold only simple geometries",
                                 hint="send Points, LineStrings or Polygons (or their Multi* forms)")
            check_geojson_coordinates(member, what=what)
        return
    depth = _POSITION_DEPTH[geom_type]
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(obj.get("coordinates"), depth, ())]
    while stack:
        value, level, path = stack.pop()
        where = "".join(f"[{i}]" for i in path)
        if level == 0:
            if value == [] and not path:
                continue  # an empty Point: refused as empty below, with that message
            problem = _position_problem(value)
            if problem:
                raise InputError(f"{what}: coordinates{where}: {problem}",
                                 hint="every position is [lon, lat] as plain JSON numbers (WGS 84 degrees)",
                                 context={"position": where})
            continue
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{what}: coordinates{where} must be a list for a {geom_type}",
                             hint="a Polygon is a list of rings, each a list of [lon, lat] positions")
        is_ring = geom_type in ("Polygon", "MultiPolygon") and level == 1
        if is_ring and len(value) >= 4:  # shorter rings are malformed whether closed or not
            first, last = value[0], value[-1]
            if _position_problem(first) is None and _position_problem(last) is None and \
                    list(first[:2]) != list(last[:2]):
                raise InputError(f"{what}: ring coordinates{where} is not closed: it starts at "
                                 f"{list(first[:2])} and ends at {list(last[:2])}",
                                 hint="repeat the ring's first position at its end (GeoJSON rings are closed "
                                      "explicitly; nothing is closed for you)",
                                 context={"ring": where, "first": list(first[:2]), "last": list(last[:2])})
        stack.extend((item, level - 1, (*path, i)) for i, item in enumerate(value))


def require_lonlat_range(geometry: BaseGeometry, *, what: str = "geometry") -> None:
    """Refuse coordinates outside lon [-180, 180] / lat [-90, 90] (projected metres, swapped axes)."""
    min_x, min_y, max_x, max_y = geometry.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise UnknownCRSError(
            f"{what} has coordinates outside the lon/lat range "
            f"(x {min_x:.6g}…{max_x:.6g}, y {min_y:.6g}…{max_y:.6g})",
            hint="send WGS 84 lon/lat (EPSG:4326) in [lon, lat] order; projected metres "
                 "(e.g. VN-2000) must be reprojected first",
            context={"bounds": [min_x, min_y, max_x, max_y]},
        )


def _validity_hint(reason: str) -> str:
    lowered = reason.lower()
    if "too few points" in lowered:
        return "a ring needs at least 4 positions: 3 corners and the first one repeated at the end"
    if "hole" in lowered or "nested shells" in lowered:
        return "holes must lie inside their outer ring, and outer rings must not lie inside each other"
    return ("redraw the outline so its edges do not cross or touch each other "
            "(a ring must not loop over itself)")


def require_valid(geometry: BaseGeometry, *, what: str = "geometry", context: dict | None = None) -> None:
    """Refuse an invalid geometry, naming the problem and where it is."""
    if shapely.is_valid(geometry):
        return
    reason = shapely.is_valid_reason(geometry)
    location = invalid_reason_location(reason)
    where = f" at lon {location[0]:.6f}, lat {location[1]:.6f}" if location else ""
    issue = {"problem": reason, "location": list(location) if location else None, **(context or {})}
    raise InvalidGeometryError(
        f"{what} is invalid: {reason.split('[')[0].strip()}{where}",
        issues=[issue],
        hint=_validity_hint(reason),
        context={"reason": reason, "location": list(location) if location else None, **(context or {})},
    )


# --------------------------------------------------------------------------- features

def _clean_properties(properties: Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn NaN / numpy scalars from data frames into plain JSON values (None for missing)."""
    cleaned: dict[str, Any] = {}
    for key, value in (properties or {}).items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        if value is pd.NaT:
            value = None
        cleaned[str(key)] = value
    return cleaned


def _format_validation_error(kind: LayerKind, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "properties"
        parts.append(f"{loc}: {err['msg']}")
    return f"{kind.value} attributes are invalid: " + "; ".join(parts)


#: Longest feature id accepted (ids go into URLs: /api/layers/{kind}/{id}).
MAX_FEATURE_ID_LENGTH = 200


def check_feature_id(value: Any) -> str:
    """A feature id as text, refused when it could not be addressed in a URL path segment."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"a feature id must be text or an integer, got {type(value).__name__}",
                         hint='use ids such as "ccn-huyen-tung" or 12')
    text = str(value)
    bad = next((ch for ch in text if ch in "/\\?#%" or ord(ch) < 32 or ord(ch) == 127), None)
    if not text.strip() or bad is not None or len(text) > MAX_FEATURE_ID_LENGTH:
        problem = (f"contains {bad!r}" if bad is not None else "is empty" if not text.strip()
                   else f"is {len(text)} characters long")
        raise InputError(f"feature id {text[:60]!r} {problem}: it could not be addressed as /api/layers/<kind>/<id>",
                         hint=f"use letters, digits, '-', '_' or '.' (at most {MAX_FEATURE_ID_LENGTH} characters)",
                         context={"feature_id": text[:MAX_FEATURE_ID_LENGTH]})
    return text


def validate_feature(kind: LayerKind | str, feature: Mapping[str, Any], *,
                     allow_markers: bool = False) -> ZoningFeature:
    """Check one GeoJSON Feature (EPSG:4326) against the layer's geometry types and schema.

    Raises :class:`~geo.errors.InputError` (malformed, wrong geometry type, bad attributes),
    :class:`~geo.errors.UnknownCRSError` (coordinates outside lon/lat) or
    :class:`~geo.errors.InvalidGeometryError` (self-intersection etc., with its location).
    ``allow_markers`` accepts a Point for an industrial cluster (see the module docstring).
    """
    kind = LayerKind.parse(kind)
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InputError(
            f"a {kind.value} feature must be a GeoJSON Feature object",
            hint='send {"type": "Feature", "geometry": {...}, "properties": {"name": ...}}',
        )
    feature_id = feature.get("id")
    feature_id = None if feature_id is None else check_feature_id(feature_id)
    refuse_crs_member(feature, what=f"the {kind.value} feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise InputError(f"{kind.value} feature properties must be an object",
                         hint='e.g. "properties": {"name": "Cụm công nghiệp Huyền Tụng"}')
    label = properties.get("name") or feature_id or "feature"
    what = f"{kind.value} feature {label!r}"
    if feature.get("geometry") is None:
        raise InputError(f"{what} has no geometry",
                         hint=f"{kind.value} need a {' or '.join(kind.geometry_types)} geometry")
    geometry = geometry_from_geojson(feature["geometry"], what=what)

    geometry_note = None
    if geometry.geom_type not in kind.geometry_types:
        if allow_markers and geometry.geom_type in MARKER_GEOMETRY_TYPES[kind]:
            geometry_note = MARKER_NOTE
        else:
            accepted = " or ".join(kind.geometry_types)
            raise InputError(
                f"{kind.value} accept {accepted}, got {geometry.geom_type}",
                hint=f"draw the {kind.label_en.lower()[:-1]} as a {accepted}"
                     + (" (or import points as markers)" if MARKER_GEOMETRY_TYPES[kind] else ""),
                context={"feature": label, "geometry_type": geometry.geom_type},
            )
    require_valid(geometry, what=what, context={"feature": label})

    try:
        attributes = kind.attributes_model.model_validate(_clean_properties(properties))
    except ValidationError as exc:
        raise InputError(_format_validation_error(kind, exc),
                         hint="fix the listed properties (name is required; see the layer schema)",
                         context={"feature": label, "errors": [
                             {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                             for e in exc.errors()]}) from None
    return ZoningFeature(kind=kind, geometry=geometry, attributes=attributes,
                         feature_id=feature_id, geometry_note=geometry_note)


def _issue_from_error(row_label: str, name: str | None, exc: InputError) -> LayerIssue:
    location = None
    if isinstance(exc, InvalidGeometryError) and exc.context.get("location"):
        location = tuple(exc.context["location"])
    return LayerIssue(feature=row_label, name=name, problem=exc.message, location=location)


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
        raise EncodingError(f"{name}: text is not UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r} "
                            "cannot be decoded)",
                            hint="re-save the file as UTF-8 (convert TCVN3/VNI/Windows-1258 text first)",
                            context={"file": name}) from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {name} as a vector layer: {type(exc).__name__}",
                         hint="use GeoJSON (.geojson), GeoPackage (.gpkg) or a zipped Shapefile (.zip)",
                         context={"file": name}) from exc
    declared_lonlat = gdf.crs is not None and gdf.crs.equals(WGS84, ignore_axis_order=True)
    gdf = to_lonlat(gdf, name, context={"file": name},
                    hint="save the file with its CRS (e.g. EPSG:4326 or a VN-2000 EPSG code such as EPSG:9210)")
    if declared_lonlat and len(gdf) and gdf.geometry.notna().any():
        # GeoJSON without a "crs" member is read as lon/lat; metres in it mean an undeclared CRS.
        min_x, min_y, max_x, max_y = gdf.total_bounds
        if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
            raise UnknownCRSError(
                f"{name} is read as lon/lat (EPSG:4326) but its coordinates reach "
                f"x {min_x:.6g}…{max_x:.6g}, y {min_y:.6g}…{max_y:.6g}: these are projected metres",
                hint="save the file as GeoPackage with its CRS, or reproject it to EPSG:4326",
                context={"file": name})
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
            issues.append(_issue_from_error(row_label, properties.get("name"), exc))
    return features


def _raise_issues(path: Path, kind_label: str, issues: list[LayerIssue], total: int) -> None:
    if not issues:
        return
    summary = "; ".join(f"{i.feature} ({i.name}): {i.problem}" for i in issues[:5])
    more = f"; and {len(issues) - 5} more" if len(issues) > 5 else ""
    message = f"{path.name}: {len(issues)} of {total} {kind_label} features refused — {summary}{more}"
    hint = "fix the listed features and load the file again (nothing was imported)"
    context = {"file": str(path)}
    if any(i.location is not None or "invalid" in i.problem or "accept" in i.problem for i in issues):
        raise InvalidGeometryError(message, issues=issues, hint=hint, context=context)
    raise InputError(message, hint=hint, context={**context, "issues": [i.to_dict() for i in issues]})


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
        raise MissingColumnError(f"{path.name} has no {layer_column!r} column",
                                 hint="add a column naming each feature's layer "
                                      "(industrial_cluster | tourism_site | night_street)",
                                 context={"file": str(path), "columns": list(gdf.columns)})
    issues: list[LayerIssue] = []
    unknown = sorted(set(gdf[layer_column].dropna().astype(str)) - set(MIXED_LAYER_VALUES)
                     - {k.value for k in LayerKind})
    for value in unknown:
        issues.append(LayerIssue(feature=f"{layer_column}={value}", name=None,
                                 problem=f"unknown layer value {value!r}"))
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
