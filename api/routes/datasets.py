"""Units datasets side by side: list them, upload one, make one the default.

Each dataset is kept by the store under its content hash (``version``) with a name, the date
of its figures and its source. Scenarios record the dataset they were built on and stay on it
until they are moved with ``POST /api/scenarios/{id}/migrate``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from diagioi.geo.errors import InputError
from diagioi.geo.i18n import Message

from ..deps import ServiceDep, WriterDep
from ..errors import responses
from ..uploads import read_upload, saved_upload

router = APIRouter(prefix="/api/datasets", tags=["datasets"])



@router.get("", summary="The units datasets the service keeps")
def list_datasets(service: ServiceDep) -> dict[str, Any]:
    """Every stored units dataset (oldest first) with the number of scenarios built on it."""
    data = service.datasets()
    return {"data": data, "count": len(data), "default": service.units.version}


@router.get("/{version}", summary="One units dataset", responses=responses(404))
def read_dataset(version: str, service: ServiceDep) -> dict[str, Any]:
    return service.dataset(version)


@router.post("", summary="Upload a units dataset (multipart, field 'file')", status_code=201,
             responses=responses(401, 403, 413, 422))
async def upload_dataset(request: Request, service: ServiceDep, actor: WriterDep) -> dict[str, Any]:
    """Read a units layer (GeoJSON, GeoPackage or a zipped shapefile) and keep it beside the others.

    Form fields: ``file`` (required), ``name``, ``data_date`` (e.g. 2024-12-31), ``source`` (where the
    figures come from), ``activate``
    (true: serve it by default; scenarios already stored stay on their own dataset). The answer is the
    dataset with its import report: ``level``, ``issues`` (per unit, typed) and ``topology`` (the summary
    of ``diagioi topology``: gaps, overlaps, slivers…).
    """
    form, upload, suffix = await read_upload(request)
    name = _text_field(form, "name", 200) or Path(upload.filename or "upload").name
    data_date = _text_field(form, "data_date", 40)
    given_source = _text_field(form, "source", 300)   # e.g. "Sở TN&MT, bản đồ địa giới 2024"
    activate = (_text_field(form, "activate", 10) or "false").lower() in ("1", "true", "yes", "on")
    content = await upload.read()
    with saved_upload(upload, content, suffix) as path:
        return await run_in_threadpool(service.import_dataset, path, name=name, data_date=data_date,
                                       source=f"{given_source} (upload: {upload.filename})" if given_source
                                       else f"upload: {upload.filename}", activate=activate, actor=actor)


@router.post("/{version}/activate", summary="Serve this dataset by default",
             responses=responses(401, 403, 404))
def activate_dataset(version: str, service: ServiceDep, actor: WriterDep) -> dict[str, Any]:
    """New scenarios are built on it; stored scenarios stay on theirs (shown as on an older dataset)."""
    return service.activate_dataset(version, actor=actor)


def _text_field(form, key: str, limit: int) -> str | None:
    value = form.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(Message("error.form_field_not_text", {"field": repr(key)}),
                         hint=Message("hint.form_field_text", {"field": key}), code="input")
    value = value.strip()
    if len(value) > limit:
        raise InputError(Message("error.form_field_too_long", {"field": repr(key), "limit": limit}),
                         context={"field": key}, code="input")
    return value or None
