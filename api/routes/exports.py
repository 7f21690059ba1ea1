"""GET /api/scenarios/{id}/export.{csv|xlsx|gpkg|geojson}: downloads built by geo.exports."""
from __future__ import annotations

import io
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from diagioi.geo import exports
from diagioi.geo.text import fold

from ..deps import LangDep, ScenarioDep, ServiceDep, store_versions
from ..errors import responses

router = APIRouter(prefix="/api/scenarios", tags=["exports"])


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    gpkg = "gpkg"
    geojson = "geojson"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.gpkg: "application/geopackage+sqlite3",
    ExportFormat.geojson: "application/geo+json",
}


# The GeoJSON download is JSON (clients parse it), so it is described as a FeatureCollection, not bytes.
_FILE_SCHEMAS = {ExportFormat.geojson: {"$ref": "#/components/schemas/FeatureCollection"}}


def attachment(name: str, suffix: str) -> dict[str, str]:
    """Content-Disposition for a download: an ASCII file name plus the UTF-8 one (RFC 6266)."""
    ascii_name = "-".join(fold(name).replace("/", " ").split()) or "diagioi"
    ascii_name = "".join(ch for ch in ascii_name if ch.isalnum() or ch in "-_.")[:80] or "diagioi"
    utf8_name = quote(f"{name}.{suffix}", safe="")
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}.{suffix}\"; filename*=UTF-8''{utf8_name}"}


# Registered before export.{fmt}, which would otherwise take "html" and refuse it (422).
@router.get("/{scenario_id}/export.html", summary="Download the scenario as a standalone HTML map",
            response_class=Response, responses={**responses(404), 200: {
                "description": "An HTML page with Leaflet inlined (opens with no network)",
                "content": {"text/html": {"schema": {"type": "string"}}}}})
async def export_scenario_html(
    record: ScenarioDep, service: ServiceDep,
    lang: LangDep, request: Request,
) -> Response:
    """New units (coloured, outlined by pass/fail, popups with figures) over the old units."""
    from diagioi.layers.html_map import render_html_map

    def build() -> bytes:
        evaluation = service.evaluation(record)
        return render_html_map(evaluation.new_units_gdf(), evaluation.units.gdf, title=record.name, lang=lang,
                               zoning=_zoning(service, record)).encode()

    content = await run_in_threadpool(service.download, record, ("html", lang), build, uses_zoning=True,
                                      versions=store_versions(request))
    return Response(content, media_type="text/html; charset=utf-8",
                    headers={**attachment(record.name, "html"), "X-Scenario-Version": str(record.version)})


@router.get("/{scenario_id}/export.{fmt}", summary="Download the scenario (CSV, XLSX annex, GeoPackage, GeoJSON)",
            response_class=Response,
            responses={**responses(404, 422), 200: {
                "description": "The file, as an attachment",
                "content": {media: {"schema": _FILE_SCHEMAS.get(fmt, {"type": "string", "format": "binary"})}
                            for fmt, media in MEDIA_TYPES.items()}}})
async def export_scenario(
    fmt: ExportFormat, record: ScenarioDep, service: ServiceDep,
    lang: LangDep, request: Request,
    table: Annotated[Literal["units", "crosswalk"], Query(
        description="CSV only: 'units' (area & density table, one row per new unit) or 'crosswalk' "
                    "(old unit → new unit)")] = "units",
) -> Response:
    """Tables carry areas in km², population in người, density in người/km²; geometry in EPSG:4326."""
    # Built once per scenario version (and per zoning layers' versions for the annex, which shows them).
    content = await run_in_threadpool(service.download, record, (fmt.value, table, lang),
                                      lambda: _build(fmt, record, service, lang, table),
                                      uses_zoning=fmt is ExportFormat.xlsx, versions=store_versions(request))
    suffix = fmt.value if not (fmt is ExportFormat.csv and table == "crosswalk") else "csv"
    name = record.name if table == "units" or fmt is not ExportFormat.csv else f"{record.name} crosswalk"
    return Response(content, media_type=MEDIA_TYPES[fmt],
                    headers={**attachment(name, suffix), "X-Scenario-Version": str(record.version)})


def _zoning(service, record):
    """The zoning indicators per new unit (as GET /api/indicators?scenario=…) when a zoning layer has features."""
    from diagioi.layers.indicators import has_features

    layers, _versions = service.layer_frames()
    return service.scenario_indicators(record)[0] if has_features(layers) else None


def _build(fmt: ExportFormat, record, service, lang: str, table: str) -> bytes:
    evaluation = service.evaluation(record)
    result = evaluation.report(lang)
    if fmt is ExportFormat.csv:
        buffer = io.BytesIO()
        if table == "crosswalk":
            exports.write_crosswalk_csv(result, evaluation.units.gdf, buffer, lang=lang)
        else:
            exports.write_table_csv(result, buffer, lang=lang)
        return buffer.getvalue()
    if fmt is ExportFormat.xlsx:
        buffer = io.BytesIO()
        exports.write_annex_xlsx(result, buffer, lang=lang,
                                 units_crosswalk=exports.crosswalk_rows(result, evaluation.units.gdf),
                                 zoning=_zoning(service, record))
        return buffer.getvalue()
    new_units = evaluation.new_units_gdf()
    if fmt is ExportFormat.geojson:
        buffer = io.BytesIO()
        exports.write_new_units_geojson(new_units, buffer, lang=lang)
        return buffer.getvalue()
    with tempfile.TemporaryDirectory(prefix="diagioi-export-") as folder:
        path = Path(folder) / "new_units.gpkg"
        exports.write_new_units_gpkg(new_units, path, lang=lang)
        return path.read_bytes()
