"""One zoning feature in: :func:`validate_feature` checks its id, geometry and attributes."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from diagioi.geo.errors import InputError, InvalidGeometryError

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
