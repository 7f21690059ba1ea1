"""One zoning feature in: :func:`validate_feature` checks its id, geometry and attributes."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from diagioi.geo.errors import InputError, InvalidGeometryError
from diagioi.geo.i18n import LANGUAGES, Message, validation_problem

from .geometry import geometry_from_geojson, refuse_crs_member, require_valid
from .schema import MARKER_GEOMETRY_TYPES, MARKER_NOTE, LayerIssue, LayerKind, ZoningFeature


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


def _format_validation_error(kind: LayerKind, exc: ValidationError) -> Message:
    """"rank: …; name: …" in each language (the attribute names are the schema's, in both)."""
    problems = {lang: "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'properties'}: "
                                f"{validation_problem(err, lang)}" for err in exc.errors())
                for lang in LANGUAGES}
    return Message("error.feature_attributes", {"kind": kind.value, "problems": problems})


def _or(values) -> dict[str, str]:
    """"Point or Polygon" in each language (geometry type names are GeoJSON's)."""
    return {"vi": " hoặc ".join(values), "en": " or ".join(values)}


# JSON syntax, the same in every language: a parameter of the hint.
_FEATURE_EXAMPLE = '{"type": "Feature", "geometry": {...}, "properties": {"name": ...}}'

#: Longest feature id accepted (ids go into URLs: /api/layers/{kind}/{id}).
MAX_FEATURE_ID_LENGTH = 200


def check_feature_id(value: Any) -> str:
    """A feature id as text, refused when it could not be addressed in a URL path segment."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(Message("error.feature_id_type", {"type": type(value).__name__}),
                         hint=Message("hint.feature_id_type"), code="input")
    text = str(value)
    bad = next((ch for ch in text if ch in "/\\?#%" or ord(ch) < 32 or ord(ch) == 127), None)
    if not text.strip() or bad is not None or len(text) > MAX_FEATURE_ID_LENGTH:
        shown = repr(text[:60])
        detail = (Message("error.feature_id_char", {"id": shown, "char": repr(bad)}) if bad is not None else
                  Message("error.feature_id_empty", {"id": shown}) if not text.strip() else
                  Message("error.feature_id_long", {"id": shown, "n": len(text)}))
        raise InputError(detail, hint=Message("hint.feature_id", {"max": MAX_FEATURE_ID_LENGTH}),
                         context={"feature_id": text[:MAX_FEATURE_ID_LENGTH]}, code="input")
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
        raise InputError(Message("error.feature_not_feature", {"kind": kind.value}),
                         hint=Message("hint.layer_body_example", {"example": _FEATURE_EXAMPLE}), code="input")
    feature_id = feature.get("id")
    feature_id = None if feature_id is None else check_feature_id(feature_id)
    refuse_crs_member(feature, what=Message("layers.what.kind_feature", {"kind": kind.value}))
    properties = feature.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise InputError(Message("error.feature_properties", {"kind": kind.value}),
                         hint=Message("hint.example", {"example": '"properties": {"name": "Cụm công nghiệp Huyền Tụng"}'}),
                         code="input")
    label = properties.get("name") or feature_id or "feature"
    what = Message("layers.what.feature", {"kind": kind.value, "label": repr(label)})
    if feature.get("geometry") is None:
        raise InputError(Message("error.feature_no_geometry", {"what": what}),
                         hint=Message("hint.feature_geometry", {"kind": kind.value, "types": _or(kind.geometry_types)}),
                         code="input")
    geometry = geometry_from_geojson(feature["geometry"], what=what)

    geometry_note = None
    if geometry.geom_type not in kind.geometry_types:
        if allow_markers and geometry.geom_type in MARKER_GEOMETRY_TYPES[kind]:
            geometry_note = MARKER_NOTE
        else:
            accepted = _or(kind.geometry_types)
            thing = {"vi": kind.label_vi.lower(), "en": kind.label_en.lower()[:-1]}
            raise InputError(
                Message("error.feature_geometry_type", {"kind": kind.value, "accepted": accepted,
                                                        "got": geometry.geom_type}),
                hint=Message("hint.feature_geometry_type_markers" if MARKER_GEOMETRY_TYPES[kind]
                             else "hint.feature_geometry_type", {"thing": thing, "accepted": accepted}),
                context={"feature": label, "geometry_type": geometry.geom_type}, code="input",
            )
    require_valid(geometry, what=what, context={"feature": label})

    try:
        attributes = kind.attributes_model.model_validate(_clean_properties(properties))
    except ValidationError as exc:
        raise InputError(_format_validation_error(kind, exc), hint=Message("hint.feature_attributes"), code="input",
                         context={"feature": label, "errors": [
                             {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                             for e in exc.errors()]}) from None
    return ZoningFeature(kind=kind, geometry=geometry, attributes=attributes,
                         feature_id=feature_id, geometry_note=geometry_note)


def _issue_from_error(row_label: str, name: str | None, exc: InputError, row: int | None = None) -> LayerIssue:
    location = None
    if isinstance(exc, InvalidGeometryError) and exc.context.get("location"):
        location = tuple(exc.context["location"])
    return LayerIssue(feature=row_label, name=name, problem=exc.message, location=location,
                      message=exc.detail_message, row=row)
