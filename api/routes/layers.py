"""Zoning layers (industrial clusters, tourism sites, night streets): CRUD and file import."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from diagioi.geo.errors import EncodingError, InputError
from diagioi.geo.i18n import LANGUAGES, Message
from diagioi.layers.models import LayerKind, read_layer_file, refuse_crs_member, validate_feature

from ..deps import ServiceDep, WriterDep
from ..errors import responses
from ..uploads import read_upload, saved_upload
from ..schemas import FeatureCollection, LayerFeatureIn, LayerFeaturePublic, LayerPublic, LayerWriteResult
from ..store import FeatureRecord

router = APIRouter(prefix="/api/layers", tags=["layers"])



def _public(record: FeatureRecord) -> LayerFeaturePublic:
    return LayerFeaturePublic(id=record.feature_id, version=record.version, geometry=record.geometry,
                              properties=record.properties)


@router.get("", summary="The zoning layers, their geometry types and versions")
def list_layers(service: ServiceDep) -> list[dict[str, Any]]:
    """One entry per layer kind: id, labels, accepted geometry types, attribute schema, version, feature count."""
    versions = service.layer_versions()
    return [{"kind": kind.value, "label_vi": kind.label_vi, "label_en": kind.label_en,
             "geometry_types": list(kind.geometry_types), "layer_version": versions[kind.value],
             "feature_count": len(service.store.list_features(kind.value)),
             "attributes_schema": kind.attributes_model.model_json_schema(),
             "tilejson": f"/api/tiles/{kind.value}.json?v={versions[kind.value]}"} for kind in LayerKind]


@router.get("/{kind}", summary="Features of a zoning layer (GeoJSON)", response_model=LayerPublic,
            responses=responses(422))
def read_layer(kind: LayerKind, service: ServiceDep) -> LayerPublic:
    """All features of the layer with their ids and versions (EPSG:4326)."""
    records = service.store.list_features(kind.value)
    return LayerPublic(kind=kind.value, label_vi=kind.label_vi, layer_version=service.store.layer_version(kind.value),
                       features=[_public(r) for r in records])


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A GeoJSON Feature or FeatureCollection (JSON), or a GeoJSON/GeoPackage file "
                       "uploaded as multipart field `file`. Every feature is checked; if any fails, nothing "
                       "is stored and the error lists them all.",
        "content": {
            "application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/LayerFeatureIn"},
                {"$ref": "#/components/schemas/FeatureCollection"}]}},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": ".geojson, .json, .gpkg or a zipped "
                                                       "Shapefile .zip (any declared CRS)"}}}},
        },
    }
}


@router.post("/{kind}", summary="Add features (JSON) or import a GeoJSON/GeoPackage file (multipart)",
             status_code=201, response_model=LayerWriteResult, openapi_extra=_IMPORT_BODY,
             responses=responses(401, 403, 409, 413, 422))
async def create_features(
    kind: LayerKind, request: Request, service: ServiceDep, actor: WriterDep,
    allow_markers: Annotated[bool, Query(description="Accept a Point for an industrial cluster whose "
                                                     "outline is unknown (flagged as a marker)")] = False,
) -> LayerWriteResult:
    """Validate geometry type and attributes of every feature, then store them all in one transaction."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        features = await _features_from_upload(request, kind, allow_markers)
    else:
        features = _features_from_json(await _json_body(request), kind, allow_markers)
    records = await run_in_threadpool(service.add_features, kind, features, actor=actor)
    return LayerWriteResult(kind=kind.value, layer_version=service.store.layer_version(kind.value),
                            created=[_public(r) for r in records])


@router.get("/{kind}/{feature_id}", summary="One feature of a zoning layer", response_model=LayerFeaturePublic,
            responses=responses(404, 422))
def read_feature(kind: LayerKind, feature_id: str, service: ServiceDep) -> LayerFeaturePublic:
    """The feature with its version (send it back on PUT to detect concurrent edits)."""
    return _public(service.store.get_feature(kind.value, feature_id))


@router.put("/{kind}/{feature_id}", summary="Replace a feature's geometry and attributes",
            response_model=LayerFeaturePublic, responses=responses(401, 403, 404, 409, 413, 422))
def update_feature(kind: LayerKind, feature_id: str, payload: LayerFeatureIn, service: ServiceDep,
                   actor: WriterDep) -> LayerFeaturePublic:
    """Validate and save; with ``version`` in the body, a stale edit gets 409."""
    raw = payload.model_dump(mode="json", exclude={"version"})
    feature = validate_feature(kind, raw, allow_markers=_is_marker(service, kind, feature_id))
    record = service.update_feature(kind, feature_id, feature, expected_version=payload.version, actor=actor)
    return _public(record)


@router.delete("/{kind}/{feature_id}", summary="Delete a feature", status_code=204,
               responses=responses(401, 403, 404, 409, 422))
def delete_feature(
    kind: LayerKind, feature_id: str, service: ServiceDep, actor: WriterDep,
    version: Annotated[int | None, Query(description="The version you saw; stale → 409")] = None,
) -> Response:
    """Delete the feature (checking ``?version=`` when given)."""
    service.delete_feature(kind, feature_id, expected_version=version, actor=actor)
    return Response(status_code=204)


# --------------------------------------------------------------------------- helpers
def _is_marker(service, kind: LayerKind, feature_id: str) -> bool:
    """A feature imported as a point marker may stay a marker when edited."""
    record = service.store.get_feature(kind.value, feature_id)
    return bool(record.properties.get("geometry_note"))


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise EncodingError(Message("error.body_not_utf8", {"position": str(exc.start),
                                                            "byte": repr(exc.object[exc.start:exc.start + 1])}),
                            hint=Message("hint.body_not_utf8")) from None
    except json.JSONDecodeError as exc:
        raise InputError(Message("error.layer_body_json_at", {"line": exc.lineno, "column": exc.colno,
                                                              "problem": exc.msg}),
                         hint=Message("hint.layer_body"), code="input") from None


# JSON syntax, the same in every language: a parameter of the hint, not words to translate.
_FEATURE_EXAMPLE = '{"type": "Feature", "geometry": {...}, "properties": {"name": "..."}}'


def _features_from_json(body: Any, kind: LayerKind, allow_markers: bool) -> list:
    if isinstance(body, dict):
        refuse_crs_member(body, what=Message("layers.what.kind_body", {
            "kind": kind.value, "type": body.get("type") or Message("contract.source.body")}))
    if isinstance(body, dict) and body.get("type") == "Feature":
        raw_features = [body]
    elif isinstance(body, dict) and body.get("type") == "FeatureCollection" and isinstance(body.get("features"), list):
        raw_features = body["features"]
    else:
        raise InputError(Message("error.layer_body_shape", {"kind": kind.value}),
                         hint=Message("hint.layer_body_example", {"example": _FEATURE_EXAMPLE}), code="input")
    features, problems, refused = [], [], []
    for position, raw in enumerate(raw_features, start=1):
        try:
            features.append(validate_feature(kind, raw, allow_markers=allow_markers))
        except InputError as exc:
            problems.append({**exc.context, "position": position, "problem": exc.message, "hint": exc.hint})
            refused.append(exc)
    if problems:
        if len(problems) == 1 and len(raw_features) == 1:
            only, error = problems[0], refused[0]
            raise InputError(error.detail_message or error.message, hint=error.hint_message or error.hint,
                             context={k: v for k, v in only.items() if k not in ("problem", "hint")}, code="input")
        # the problems in each language: the message renders the reader's
        listed = {lang: "; ".join(f"#{p['position']}: {error.detail_in(lang)}"
                                  for p, error in zip(problems[:5], refused[:5])) for lang in LANGUAGES}
        raise InputError(Message("error.features_refused", {"refused": len(problems), "total": len(raw_features),
                                                            "kind": kind.value, "problems": listed}),
                         hint=Message("hint.features_refused"), context={"issues": problems}, code="input")
    if not features:
        raise InputError(Message("error.no_features"), hint=Message("hint.add_feature"), code="input")
    return features


async def _features_from_upload(request: Request, kind: LayerKind, allow_markers: bool) -> list:
    _form, upload, suffix = await read_upload(request)
    content = await upload.read()
    with saved_upload(upload, content, suffix) as path:
        # The bytes decide the format (geo.safe_open), never the name: a VRT named .json is refused.
        features = await run_in_threadpool(read_layer_file, path, kind, allow_markers=allow_markers,
                                           name=Path(upload.filename or path.name).name)
    if not features:
        raise InputError(Message("error.upload_empty", {"file": upload.filename}), hint=Message("hint.upload_empty"),
                         context={"file": upload.filename}, code="input")
    return features


__all__ = ["router", "FeatureCollection"]
