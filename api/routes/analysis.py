"""POST /api/analysis/polygon: figures of a polygon drawn on the map."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from diagioi.layers.analysis import analyse_polygon

from ..deps import LangDep, ServiceDep
from ..errors import responses
from ..schemas import PolygonAnalysisRequest, PolygonAnalysisResult

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


@router.post("/polygon", summary="Analyse a drawn polygon", response_model=PolygonAnalysisResult,
             responses=responses(413, 422))
def analyse_drawn_polygon(payload: PolygonAnalysisRequest, service: ServiceDep, lang: LangDep) -> JSONResponse:
    """Geodesic area (km²), estimated population (người), density (người/km²), units intersected and
    zoning indicators. A self-intersecting polygon or one larger than the configured area limit → 422."""
    frames, _versions = service.layer_frames()
    geojson = payload.model_dump(mode="json", exclude_none=True)
    result = analyse_polygon(geojson, units=service.units, raster_path=service.raster_path, layers=frames,
                             max_area_km2=service.settings.max_polygon_area_km2, lang=lang)
    return JSONResponse(result)
