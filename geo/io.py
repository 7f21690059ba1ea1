"""Reading ward/commune layers (GeoJSON, GeoPackage, Shapefile) into a :class:`UnitSet`.

A documented field mapping turns source columns into the model (see ``FIELD_CANDIDATES``);
explicit ``*_field`` arguments win. Codes are always text with leading zeros kept; every
problem is reported per unit, never fixed silently.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import geodesic_areas_km2
from .crs import WGS84, require_crs, to_wgs84
from .errors import (
    EncodingError,
    InputError,
    InvalidGeometryError,
    MissingColumnError,
    UnknownCRSError,
)
from .i18n import Message, translate
from .kinds import UnitKind
from .safe_open import SafeSource, VectorFormat, open_vector, read_frame
from .text import fold, nfc
from .units import UNIT_COLUMNS, UnitSet
from .validity import GeometryIssue, check_and_repair

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")

# Model field → source column names tried in order (compared case- and diacritic-insensitively).
FIELD_CANDIDATES: dict[str, list[str]] = {
    "code": ["code", "ma", "ma_xa", "maxa", "ma_dvhc", "commune_code", "gso_code", "id"],
    "name": ["name", "ten", "ten_xa", "tenxa", "ten_dvhc", "commune_name"],
    "kind": ["kind", "loai", "cap", "type", "loai_dvhc"],
    "district": ["district", "huyen", "ten_huyen", "district_name"],
    "province": ["province", "tinh", "ten_tinh", "province_name"],
    "population": ["population", "dan_so", "danso", "pop", "population_total"],
    "population_year": ["population_year", "nam_dan_so"],
    "official_area_km2": ["area_km2_official", "official_area_km2", "dien_tich", "dientich", "dtich_km2",
                          "dien_tich_km2"],
    "mountainous": ["mountainous", "mien_nui", "vung_cao", "highland"],
    "border": ["border", "bien_gioi"],
    "island": ["island", "hai_dao", "dao"],
    "red_river_delta": ["red_river_delta", "dong_bang_song_hong", "dbsh"],
    "ethnic_minority_share": ["ethnic_minority_share", "ty_le_dtts", "dtts_pct", "ethnic_minority_pct"],
}
REQUIRED_FIELDS = ("code", "name")
_KIND_PREFIXES = {"phuong ": UnitKind.ward, "xa ": UnitKind.commune, "thi tran ": UnitKind.township,
                  "dac khu ": UnitKind.special_zone}


#: The unit fields in Vietnamese words, for the messages that name one ("no column for the unit code").
_FIELD_WORDS_VI = {"code": "mã", "name": "tên", "kind": "loại", "district": "huyện", "province": "tỉnh",
                   "population": "dân số", "population_year": "năm dân số", "area": "diện tích",
                   "official_area_km2": "diện tích chính thức", "mountainous": "miền núi", "border": "biên giới",
                   "island": "hải đảo", "red_river_delta": "đồng bằng sông Hồng",
                   "ethnic_minority_share": "tỷ lệ dân tộc thiểu số"}


def _field_words(field: str) -> dict[str, str]:
    return {"vi": _FIELD_WORDS_VI.get(field, field), "en": field}


def _match_column(columns: list[str], wanted: str | None, model_field: str, path: Path) -> str | None:
    folded = {fold(c).replace(" ", "_"): c for c in columns}
    if wanted:
        key = fold(wanted).replace(" ", "_")
        if key in folded:
            return folded[key]
        raise MissingColumnError(
            Message("error.column_not_in_file", {"file": path.name, "column": repr(wanted),
                                                 "field": _field_words(model_field)}),
            hint=Message("hint.available_columns", {"columns": ", ".join(columns)}),
            context={"file": str(path), "field": model_field}, code="missing_column",
        )
    for candidate in FIELD_CANDIDATES.get(model_field, []):
        if candidate in folded:
            return folded[candidate]
    return None


def _read_frame(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    """Read the layer through :mod:`geo.safe_open` (bytes sniffed, driver forced, no indirection)."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES and path.exists():
        raise InputError(f"{path.name}: unsupported format {path.suffix!r}",
                         hint="use GeoJSON (.geojson), GeoPackage (.gpkg) or Shapefile (.shp, or zipped as .zip)",
                         context={"file": str(path)})
    with open_vector(path, allow_plain_shapefile=True) as source:
        if source.format is VectorFormat.geojson:
            _precheck_geojson(path)
        if source.format in (VectorFormat.shapefile, VectorFormat.zipped_shapefile):
            return _read_shapefile(source, encoding, layer)
        kwargs = {"encoding": encoding} if encoding else {}
        return read_frame(source, layer=layer, **kwargs)


def _precheck_geojson(path: Path) -> None:
    """Give a precise message for malformed GeoJSON instead of a driver error."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except UnicodeDecodeError as exc:
        raise EncodingError(Message("error.geojson_not_utf8", {"file": path.name, "reason": exc.reason,
                                                               "position": str(exc.start)}),
                            hint=Message("hint.resave_utf8"), context={"file": str(path)}, code="encoding") from exc
    except RecursionError:
        raise InputError(Message("error.geojson_too_deep", {"file": path.name}), hint=Message("hint.geojson_too_deep"),
                         context={"file": str(path)}, code="input") from None
    except json.JSONDecodeError as exc:
        raise InputError(Message("error.file_json_at", {"file": path.name, "line": exc.lineno, "column": exc.colno,
                                                        "problem": exc.msg}),
                         hint=Message("hint.fix_json"),
                         context={"file": str(path), "line": exc.lineno, "column": exc.colno}, code="input") from exc
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise InputError(Message("error.file_json_value", {"file": path.name, "reason": str(exc)}),
                         hint=Message("hint.geojson_numbers"), context={"file": str(path)}, code="input") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise InputError(Message("error.not_feature_collection", {"file": path.name, "type": repr(found)}),
                         hint=Message("hint.units_collection"), context={"file": str(path)}, code="input")
    features = data.get("features", [data]) if data.get("type") == "FeatureCollection" else [data]
    if not isinstance(features, list) or not features:
        raise InputError(Message("error.file_problem", {"file": path.name, "problem": Message("error.no_features")}),
                         hint=Message("hint.export_again"), context={"file": str(path)}, code="input")


def _read_shapefile(source: SafeSource, encoding: str | None, layer: str | None) -> gpd.GeoDataFrame:
    """Shapefiles: honour --encoding or a .cpg, else detect legacy Vietnamese DBF encodings.

    Only UTF-8 is decoded by GDAL; cp1258, TCVN3 and VNI are read as raw bytes (ISO-8859-1)
    and decoded by geo.encoding, because GDAL's cp1258 path drops the last character.
    """
    from .encoding import RAW_READ_ENCODING, decode_bytes, detect_dbf_encoding, fix_legacy_text_columns

    path = source.path
    if encoding:
        decode_bytes(b"", encoding)  # validates the name, with a hint listing the supported ones
    enc = (encoding or detect_dbf_encoding(path)).lower()
    if enc in ("utf-8", "utf8"):
        try:
            return read_frame(source, layer=layer, encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(Message("error.dbf_not_utf8", {"file": source.name}),
                                hint=Message("hint.dbf_encoding"), context={"file": source.name},
                                code="encoding") from exc
    frame = read_frame(source, layer=layer, encoding=RAW_READ_ENCODING)
    return fix_legacy_text_columns(frame, path.with_suffix(".dbf"), enc)


def _as_code(value, numeric_source: bool, width: int = 5) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if numeric_source or isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer()):
        return f"{int(value):0{width}d}"
    text = str(value).strip()
    return text or None


LEVELS = ("commune", "district", "province")
CODE_WIDTH = {"commune": 5, "district": 3, "province": 2}
_LEVEL_COLUMNS = {"district": ["district_type_gso", "loai_huyen", "ma_huyen_only", "district_type"],
                  "province": ["province_type", "loai_tinh"]}
_NAME_PREFIXES = {"commune": ("phuong ", "xa ", "thi tran ", "dac khu "),
                  "district": ("huyen ", "quan ", "thi xa ", "thanh pho "),
                  "province": ("tinh ",)}
_PARENT_KIND_PREFIXES = {"district": {"huyen ": "district", "quan ": "urban_district", "thi xa ": "town",
                                      "thanh pho ": "provincial_city"},
                         "province": {"tinh ": "province", "thanh pho ": "central_city"}}


def detect_level(frame: pd.DataFrame, mapping: dict, names: list[str]) -> tuple[str, Message]:
    """Commune, district or province layer, and why (a catalogue message; ``level_reason`` is its English text):
    by columns, kinds, names, code lengths."""
    folded_columns = {fold(c).replace(" ", "_") for c in frame.columns}
    if mapping.get("kind"):
        parsed = sum(_to_kind(v, "") is not None for v in frame[mapping["kind"]])
        if parsed > len(frame) / 2:
            return "commune", Message("level.reason.kind_column", {"column": repr(mapping["kind"])})
    for level, columns in _LEVEL_COLUMNS.items():
        hit = folded_columns.intersection(columns)
        if hit:
            return level, Message("level.reason.column", {"column": repr(sorted(hit)[0])})
    folded_names = [fold(n) + " " for n in names]
    counts = {level: sum(n.startswith(prefixes) for n in folded_names) for level, prefixes in _NAME_PREFIXES.items()}
    if counts["province"] > len(names) / 2:
        return "province", Message("level.reason.province_names")
    if counts["district"] > len(names) / 2 and counts["commune"] == 0:
        return "district", Message("level.reason.district_names")
    if mapping.get("code") and not pd.api.types.is_numeric_dtype(frame[mapping["code"]]):
        lengths = pd.Series([len(str(v).strip()) for v in frame[mapping["code"]] if v is not None and v == v])
        if len(lengths) and lengths.mode().iat[0] == 3 and counts["commune"] == 0:
            return "district", Message("level.reason.district_codes")
        if len(lengths) and lengths.mode().iat[0] == 2 and counts["commune"] == 0:
            return "province", Message("level.reason.province_codes")
    return "commune", Message("level.reason.default")


def _parent_kind(name: str, level: str) -> str:
    folded = fold(name) + " "
    for prefix, kind in _PARENT_KIND_PREFIXES[level].items():
        if folded.startswith(prefix):
            return kind
    return level


def _to_bool(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.zeros(n, dtype=bool)
    truthy = {"1", "true", "yes", "co", "x", "mien nui", "vung cao", "y"}
    return np.array([fold(str(v)) in truthy if v is not None and v == v else False for v in series], dtype=bool)


def _to_share(series: pd.Series | None, n: int) -> np.ndarray:
    """A share as a fraction 0..1; values above 1 are read as percentages (45 → 0.45)."""
    if series is None:
        return np.full(n, np.nan)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = np.where(values > 1.0, values / 100.0, values)
    return np.where((values >= 0.0) & (values <= 1.0), values, np.nan)


def _to_kind(value, name: str) -> str | None:
    if value is not None and value == value and str(value).strip():
        try:
            return UnitKind.parse(value).value
        except InputError:
            return None
    folded = fold(name)
    for prefix, kind in _KIND_PREFIXES.items():
        if folded.startswith(prefix):
            return kind.value
    return None


def _require_numbers(raw: pd.Series, numbers: pd.Series, column: str, field: str, path: Path) -> None:
    """Refuse a column of text given for a number (e.g. a name column as --population-field):
    every present value failing to read as a number is a wrong column, not missing data."""
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    if present.any() and numbers[present.to_numpy()].isna().all():
        examples = ", ".join(repr(str(v)) for v in raw[present].head(3))
        raise MissingColumnError(
            Message("error.column_text", {"file": path.name, "column": repr(column), "field": _field_words(field),
                                          "examples": examples}),
            hint=Message("hint.numeric_column", {"option": f"--{field.replace('_', '-')}-field"}),
            context={"file": str(path), "field": field, "column": column}, code="missing_column")


def read_units(
    path: str | Path,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    kind_field: str | None = None,
    population_field: str | None = None,
    area_field: str | None = None,
    district_field: str | None = None,
    province_field: str | None = None,
    mountainous_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    repair: bool = True,
    population_source: str | None = None,
    level: str | None = None,
) -> UnitSet:
    """Read a ward/commune layer into a :class:`UnitSet` (EPSG:4326, geodesic areas).

    Parameters
    ----------
    path : GeoJSON, GeoPackage or Shapefile, in any CRS (declared in the file or by ``crs``).
    *_field : source column for each model field; defaults come from ``FIELD_CANDIDATES``.
    crs : CRS to assume when the file declares none (e.g. "EPSG:3405"); it never overrides a declared CRS.
    encoding : text encoding of a shapefile DBF (utf-8, cp1258, tcvn3, vni); detected when omitted.
    repair : repair invalid geometries (each repair reported in ``issues``) instead of refusing them.
    level : "commune", "district" or "province"; detected from the columns, kinds, names and codes when
        omitted. A district or province layer keeps its kinds (huyện, quận, thị xã…) and its 3/2-digit codes.

    Raises
    ------
    InputError and subclasses with a message naming the file, column or unit and what to do.
    """
    path = Path(path)
    frame = _read_frame(path, layer, encoding)
    if len(frame) == 0:
        raise InputError(Message("error.layer_empty", {"file": path.name}), hint=Message("hint.layer_name"),
                         context={"file": str(path)}, code="input")
    source_crs = frame.crs
    if source_crs is None:
        source_crs = require_crs(crs, source=path.name)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    mapping = {
        "code": _match_column(columns, code_field, "code", path),
        "name": _match_column(columns, name_field, "name", path),
        "kind": _match_column(columns, kind_field, "kind", path),
        "district": _match_column(columns, district_field, "district", path),
        "province": _match_column(columns, province_field, "province", path),
        "population": _match_column(columns, population_field, "population", path),
        "population_year": _match_column(columns, None, "population_year", path),
        "official_area_km2": _match_column(columns, area_field, "official_area_km2", path),
        "mountainous": _match_column(columns, mountainous_field, "mountainous", path),
        "border": _match_column(columns, None, "border", path),
        "island": _match_column(columns, None, "island", path),
        "red_river_delta": _match_column(columns, None, "red_river_delta", path),
        "ethnic_minority_share": _match_column(columns, None, "ethnic_minority_share", path),
    }
    for required in REQUIRED_FIELDS:
        if mapping[required] is None:
            raise MissingColumnError(
                Message("error.no_column_for", {"file": path.name, "field": _field_words(required)}),
                hint=Message("hint.column_option", {"option": f"--{required}-field",
                                                    "columns": ", ".join(columns)}),
                context={"file": str(path), "field": required}, code="missing_column",
            )
    n = len(frame)
    get = lambda field: frame[mapping[field]] if mapping[field] else None  # noqa: E731
    issues: list[GeometryIssue] = []

    names = [nfc(str(v)).strip() if v is not None and v == v else "" for v in get("name")]
    if level is not None and level not in LEVELS:
        raise InputError(f"unknown level {level!r}", hint="use --level commune|district|province")
    level_reason = Message("level.reason.option")
    if level is None:
        level, level_reason = detect_level(frame, mapping, names)
    width = CODE_WIDTH[level]
    code_series = get("code")
    numeric_codes = pd.api.types.is_numeric_dtype(code_series)
    codes: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(code_series):
        code = _as_code(raw, numeric_codes, width)
        if code is not None and numeric_codes and len(str(int(raw))) < width:
            issues.append(GeometryIssue(code, names[i], "padded unit code", action="repaired",
                                        detail=f"numeric code {int(raw)} read as {code!r} (leading zeros added)"))
        elif code is not None and code.isdigit() and len(code) < width:
            issues.append(GeometryIssue(code, names[i], "short unit code", action="reported",
                                        detail=f"{len(code)} digits, a {level} code has {width}: a lost leading "
                                               f"zero? kept as {code!r}"))
        if code is None:
            code = f"_row{i:05d}"
            issues.append(GeometryIssue(code, names[i], "missing unit code", action="reported",
                                        detail=f"temporary id {code} given; add the GSO code to use it in scenarios"))
        if code in seen:
            new_code = f"{code}_{seen[code] + 1}"
            issues.append(GeometryIssue(code, names[i], "duplicate unit code", action="reported",
                                        detail=f"second occurrence renamed {new_code}"))
            seen[code] += 1
            code = new_code
        else:
            seen[code] = 1
        codes.append(code)

    try:
        crs_obj = require_crs(source_crs, source=path.name)
        geometries = to_wgs84(np.asarray(frame.geometry.values, dtype=object), crs_obj)
    except UnknownCRSError:
        raise
    geometries, geometry_issues, refused = check_and_repair(codes, names, geometries, repair=repair)
    issues.extend(geometry_issues)
    if refused:
        refused_issues = [iss for iss in geometry_issues if iss.action == "refused"]
        # Each unit's problem is GEOS's own words (also in the context's issues, typed).
        listed = "; ".join(str(i) for i in refused_issues[:5]) + ("…" if len(refused_issues) > 5 else "")
        raise InvalidGeometryError(
            Message("error.unusable_geometry", {"file": path.name, "n": len(refused), "issues": listed}),
            issues=refused_issues, hint=Message("hint.fix_polygons"), context={"file": str(path)},
            code="invalid_geometry",
        )
    area_km2 = geodesic_areas_km2(geometries)

    kinds = []
    type_column = next((frame[c] for c in frame.columns
                        if fold(c).replace(" ", "_") in _LEVEL_COLUMNS.get(level, [])), None)
    for i, raw in enumerate(get("kind") if mapping["kind"] else [None] * n):
        if level != "commune":
            typed = type_column.iat[i] if type_column is not None else None
            kinds.append(_parent_kind(f"{typed} x" if isinstance(typed, str) and typed.strip() else names[i], level))
            continue
        kind = _to_kind(raw, names[i])
        if kind is None:
            issues.append(GeometryIssue(codes[i], names[i], f"unknown unit kind {raw!r}", action="reported",
                                        detail="treated as commune (xã); fix the kind column to change it"))
            kind = UnitKind.commune.value
        kinds.append(kind)

    population = pd.to_numeric(get("population"), errors="coerce") if mapping["population"] else pd.Series([np.nan] * n)
    if mapping["population"] is not None:
        _require_numbers(get("population"), population, mapping["population"], "population", path)
    if mapping["population"] is None:
        issues.append(GeometryIssue("*", "*", "no population column", action="reported",
                                    detail="pass --population-field; densities and population standards are unknown"))
    else:
        for i in np.flatnonzero(population.isna().to_numpy()):
            issues.append(GeometryIssue(codes[i], names[i], "missing population", action="reported"))
        for i in np.flatnonzero((population == 0).to_numpy()):
            issues.append(GeometryIssue(codes[i], names[i], "zero population", action="reported",
                                        detail="0 người in the source: densities and population standards use 0"))
        for i in np.flatnonzero((population < 0).to_numpy()):
            issues.append(GeometryIssue(codes[i], names[i], "negative population", action="refused",
                                        detail=f"{population.iat[i]} set to missing"))
        population = population.where(population >= 0)
    official = pd.to_numeric(get("official_area_km2"), errors="coerce") if mapping["official_area_km2"] else pd.Series([np.nan] * n)
    official = official.where(official > 0)
    year = pd.to_numeric(get("population_year"), errors="coerce") if mapping["population_year"] else pd.Series([np.nan] * n)

    def text_column(field):
        series = get(field)
        if series is None:
            return [None] * n
        return [nfc(str(v)) if v is not None and v == v else None for v in series]

    data = {
        "code": codes,
        "name": names,
        "kind": kinds,
        "district": text_column("district"),
        "province": text_column("province"),
        "population": population.to_numpy(dtype=float),
        "population_year": year.to_numpy(dtype=float),
        "population_source": _population_sources(frame, columns, mapping, path, population_source, n),
        "official_area_km2": official.to_numpy(dtype=float),
        "official_area_source": [f"{path.name}:{mapping['official_area_km2']}" if mapping["official_area_km2"] else None] * n,
        "area_km2": area_km2,
        "mountainous": _to_bool(get("mountainous"), n),
        "border": _to_bool(get("border"), n),
        "island": _to_bool(get("island"), n),
        "red_river_delta": _to_bool(get("red_river_delta"), n),
        "ethnic_minority_share": _to_share(get("ethnic_minority_share"), n),
    }
    gdf = gpd.GeoDataFrame(data, geometry=geometries, crs=WGS84, index=pd.Index(codes, name="unit_code"))
    gdf = gdf[UNIT_COLUMNS + ["geometry"]]
    log.info("read %d units from %s (%d issues)", len(gdf), path, len(issues))
    return UnitSet(gdf, source=str(path), issues=issues, field_mapping=mapping,
                   source_crs=crs_obj.to_string(), level=level, level_reason=translate(level_reason, "en"),
                   level_reason_message=level_reason)


def _population_sources(frame, columns, mapping, path: Path, population_source: str | None, n: int) -> list:
    """Per-unit source of the population: the given one, a ``population_source`` column (a layer written by
    :func:`write_units` after a table join keeps each figure's source), or file:column."""
    if mapping["population"] is None:
        return [None] * n
    default = population_source or f"{path.name}:{mapping['population']}"
    if population_source is None and "population_source" in columns:
        return [nfc(str(v)) if isinstance(v, str) and v.strip() else default for v in frame["population_source"]]
    return [default] * n


def write_units(unit_set: UnitSet, path: str | Path) -> None:
    """Write a unit set as a GeoPackage layer ``units`` that :func:`read_units` reads back with the same
    figures, flags, population year and per-unit population source (e.g. after a table join or a repair)."""
    gdf = unit_set.gdf.reset_index(drop=True).rename(columns={"official_area_km2": "area_km2_official"})
    gdf = gdf.drop(columns=["area_km2"])   # computed again on load
    # a temporary id given to a unit without code is not written as if it were a GSO code
    gdf["code"] = [None if str(c).startswith("_row") else c for c in gdf["code"]]
    gdf.to_file(path, layer="units", driver="GPKG", engine="pyogrio", promote_to_multi=True)

