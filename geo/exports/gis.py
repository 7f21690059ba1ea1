"""New units as GIS files (GeoPackage, RFC 7946 GeoJSON) for QGIS and other tools.

Attribute values a person reads are in the reader's language (Vietnamese by default): the kind
("Phường"), the status ("Đạt", "Thiếu số liệu") and the standards summary
("Diện tích tự nhiên: Không đạt 60,2 %"). Column names stay identifiers; figures stay numbers.
"""
from __future__ import annotations

import io
import json
import re
from typing import Any

from ..errors import MissingCRSError
from ..i18n import catalogue, format_number
from ..kinds import Status
from .files import atomic_path, write_bytes
from .table import criterion_label, kind_label, number, texts

GEOJSON_DECIMALS = 7  # ~1 cm at the equator, RFC 7946 §11.2 recommends not more


def _field(standard: Any, name: str) -> Any:
    return getattr(standard, name, None) if not isinstance(standard, dict) else standard.get(name)


def standards_summary(standards: Any, lang: str = "vi") -> str | None:
    """One line per unit: "Diện tích tự nhiên: Đạt 220,0 %; Quy mô dân số: Không đạt 82,0 %"."""
    if not isinstance(standards, (list, tuple)):
        return None
    words = catalogue(lang)
    parts = []
    for standard in standards:
        status = Status(_field(standard, "status"))
        percent = number(_field(standard, "percent_of_standard"))
        share = "" if percent is None else f" {format_number(percent, 1, lang)} %"
        criterion = _field(standard, "criterion") or _field(standard, "rule")
        parts.append(f"{criterion_label(str(criterion), lang)}: {words[f'status.{status.value}']}{share}")
    return "; ".join(parts)


def _flat_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


# A part as ``Evaluation.new_units_gdf`` names it: "00001 (50.0%)". That frame is language-free (tiles and the
# HTML map read it too), so the share's decimal mark is the reader's only here, where the language is known.
_PART_SHARE = re.compile(r"\((\d+)\.(\d+)%\)$")


def _parts_text(value: Any, lang: str) -> Any:
    """The parts a new unit takes, joined with ';', the share written with a decimal comma in Vietnamese."""
    if lang == "vi" and isinstance(value, (list, tuple)):
        value = [_PART_SHARE.sub(r"(\1,\2%)", str(part)) for part in value]
    return _flat_value(value)


def _status_word(value: Any, lang: str) -> Any:
    try:
        return catalogue(lang)[f"status.{Status(value).value}"]
    except ValueError:
        return value


def _flattened(new_units, lang: str):
    """A copy whose attribute columns GIS formats can store, with the texts in ``lang``: lists joined
    with ';', dicts as JSON text, kinds and statuses as words, standards as a summary line, the shares
    of parts with the reader's decimal mark."""
    if new_units.crs is None:
        raise MissingCRSError("the new units have no CRS", hint="set it: new_units.set_crs(4326)")
    texts(lang)  # refuses an unknown language before anything is written
    flat = new_units.copy()
    geometry_name = flat.geometry.name
    for name in list(flat.columns):
        if name == geometry_name:
            continue
        if name == "standards":
            flat[name] = flat[name].map(lambda value: standards_summary(value, lang))
        elif name == "kind":
            flat[name] = flat[name].map(lambda value: kind_label(value, lang))
        elif name == "status":
            flat[name] = flat[name].map(lambda value: _status_word(value, lang))
        elif name == "parts":
            flat[name] = flat[name].map(lambda value: _parts_text(value, lang))
        elif flat[name].dtype == object:
            flat[name] = flat[name].map(_flat_value)
    return flat


def write_new_units_gpkg(new_units, path, *, layer: str = "new_units", lang: str = "vi") -> None:
    """Write the new units to a GeoPackage layer, atomically (temporary file, then ``os.replace``).

    ``members`` lists become "01840;01834"; a ``standards`` column becomes a summary such as
    "Diện tích tự nhiên: Đạt 220,0 %; Quy mô dân số: Không đạt 82,0 %"; ``kind`` and ``status`` are
    words in ``lang``. The CRS is kept as given (EPSG:4326 by contract).
    """
    flat = _flattened(new_units, lang)
    with atomic_path(path, ".gpkg") as temporary:
        flat.to_file(temporary, driver="GPKG", layer=layer, engine="pyogrio")


def write_new_units_geojson(new_units, path_or_buffer, *, lang: str = "vi") -> None:
    """Write the new units as RFC 7946 GeoJSON: EPSG:4326, counter-clockwise outer rings, 7 decimals.

    Attribute columns are flattened as in :func:`write_new_units_gpkg`. ``path_or_buffer`` is a path
    (written atomically) or a binary or text file object.
    """
    import pyogrio

    flat = _flattened(new_units, lang).to_crs(4326)
    buffer = io.BytesIO()
    pyogrio.write_dataframe(flat, buffer, driver="GeoJSON", layer="new_units",
                            RFC7946="YES", COORDINATE_PRECISION=GEOJSON_DECIMALS)
    write_bytes(buffer.getvalue(), path_or_buffer, ".geojson")
