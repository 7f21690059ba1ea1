"""POST /api/flags/table: read a per-unit region-flags table (CSV) for the page, checked against the units."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from diagioi.geo.flags import check_flag_codes, read_flags_csv

from ..deps import ServiceDep
from ..errors import responses

router = APIRouter(prefix="/api/flags", tags=["units"])


@router.post("/table", summary="Read a flags table (CSV) into unit_flags, checked against the units layer",
             responses=responses(404, 413, 422),
             openapi_extra={"requestBody": {"required": True, "description": "The CSV file's bytes (UTF-8): a code "
                                            "column and flag columns (mountainous, border, island, red_river_delta, "
                                            "central_city, coastal_poor: yes/no; ethnic_minority_share: 0..1 or %)",
                                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def read_flags_table(request: Request, service: ServiceDep, name: str = "flags.csv") -> dict:
    """``{"unit_flags": {code: {flag: value}}, "count": n}``; a bad cell or an unknown code is a 422/404
    naming the row and column. Nothing is stored: the page puts the result into the scenario it saves."""
    data = await request.body()
    table = await run_in_threadpool(read_flags_csv, data, name=name)
    check_flag_codes(table, service.units, name=name)
    return {"unit_flags": table, "count": len(table)}
