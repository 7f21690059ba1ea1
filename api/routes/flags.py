"""POST /api/flags/table: read a per-unit region-flags table (CSV/XLSX) for the page, joined to the units."""
from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from diagioi.geo.errors import InputError
from diagioi.geo.i18n import Message
from diagioi.geo.flags import read_flags_table

from ..deps import ServiceDep
from ..errors import responses

router = APIRouter(prefix="/api/flags", tags=["units"])

_SUFFIXES = {".csv", ".txt", ".xlsx"}


@router.post("/table", summary="Read a flags table (CSV/XLSX) into unit_flags, joined to the units layer",
             responses=responses(404, 413, 422),
             openapi_extra={"requestBody": {"required": True, "description": "The file's bytes: a code column and "
                                            "flag columns (mountainous, border, island, red_river_delta, central_city, "
                                            "coastal_poor: yes/no; ethnic_minority_share: 0..1 or %)",
                                            "content": {"text/csv": {"schema": {"type": "string"}},
                                                        "application/octet-stream": {"schema": {"type": "string",
                                                                                                "format": "binary"}}}}})
async def read_flags(request: Request, service: ServiceDep, name: str = "flags.csv") -> dict:
    """``{"unit_flags": {code: {flag: value}}, "count": n}``; a bad cell or a row that matches no unit is
    a 422/404 naming the row. Nothing is stored: the page puts the result into the scenario it saves."""
    suffix = Path(name).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(Message("error.flags_format", {"file": repr(name)}), hint=Message("hint.flags_format"),
                         context={"file": name}, code="input")
    data = await request.body()
    safe_stem = "".join(ch for ch in Path(name).stem if ch.isalnum() or ch in "-_.") or "flags"
    with tempfile.TemporaryDirectory(prefix="diagioi-flags-") as folder:
        path = Path(folder) / f"{safe_stem}{suffix}"
        path.write_bytes(data)
        table, _report = await run_in_threadpool(read_flags_table, path, service.units)
    return {"unit_flags": table, "count": len(table)}
