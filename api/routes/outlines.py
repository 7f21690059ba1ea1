"""GET /api/outlines (district and province outlines, unit label points, data attribution) and
POST /api/units/{code}/split (a unit cut by a drawn line): map helpers of the browser app."""
from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import shapely
from fastapi import APIRouter, Response

from diagioi.geo.outlines import admin_outlines, unit_label_points
from diagioi.geo.split import split_unit

from ..deps import ServiceDep
from ..errors import responses

router = APIRouter(prefix="/api", tags=["units"])

_cache: dict[tuple[int, str], bytes] = {}
_cache_lock = threading.Lock()


def _attribution(service) -> dict[str, Any]:
    """Source file, licence and population year of the unit layer, as the map's attribution says them."""
    active = service.store.active_units_dataset()
    years = Counter(int(y) for y in service.units.gdf["population_year"].dropna())
    # The sample region's name and licence are worded by the page (sample_data), in its reader's language.
    licence = service.settings.units_licence
    return {"source": active.name if active else service.units.source, "licence": licence,
            "population_year": years.most_common(1)[0][0] if years else None,
            "sample_data": service.sample_data}


def _build(service) -> bytes:
    features: list[dict[str, Any]] = []
    for outline in admin_outlines(service.units):
        properties = {"level": outline.level, "role": "outline", "name": outline.name, "province": outline.province,
                      "unit_count": outline.unit_count}
        features.append({"type": "Feature", "properties": properties,
                         "geometry": shapely.geometry.mapping(shapely.set_precision(outline.geometry, 1e-6))})
        if outline.label_point:
            features.append({"type": "Feature", "properties": {**properties, "role": "label"},
                             "geometry": {"type": "Point", "coordinates": list(outline.label_point)}})
    gdf = service.units.gdf
    for code, point in unit_label_points(service.units).items():
        if point is None:
            continue
        features.append({"type": "Feature", "properties": {
            "level": "unit", "role": "label", "code": code, "name": gdf.at[code, "name"], "kind": gdf.at[code, "kind"]},
            "geometry": {"type": "Point", "coordinates": list(point)}})
    collection = {"type": "FeatureCollection", "units_version": service.units.version,
                  "attribution": _attribution(service), "features": features}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")


@router.get("/outlines", summary="District and province outlines, unit label points, data attribution (GeoJSON)",
            responses={200: {"description": "FeatureCollection (EPSG:4326). Features with role \"outline\" are the "
                                            "dissolved districts and provinces (level district|province); role "
                                            "\"label\" are label points of districts, provinces and units (level "
                                            "unit, with code, name, kind). \"attribution\" names the unit layer's "
                                            "source file, licence and population year.",
                             "content": {"application/geo+json": {}}}})
def read_outlines(service: ServiceDep) -> Response:
    """Outlines dissolved from the units' district/province columns, for orientation on the map."""
    key = (id(service), service.units.version)
    with _cache_lock:
        content = _cache.get(key)
    if content is None:
        content = _build(service)
        with _cache_lock:
            if len(_cache) >= 4:
                _cache.pop(next(iter(_cache)))
            _cache[key] = content
    return Response(content, media_type="application/geo+json", headers={"X-Units-Version": service.units.version})


@router.post("/units/{code}/split", summary="Pieces of a unit cut by a drawn line (GeoJSON)",
             responses={**responses(404, 413, 422)})
def split_unit_by_line(code: str, line: dict[str, Any], service: ServiceDep) -> dict[str, Any]:
    """``{"code", "pieces": [{"geometry", "area_km2"}]}``, largest first: area on the WGS 84 ellipsoid
    (computed). A piece saved as a drawn new unit takes that part out of the unit."""
    pieces = split_unit(service.units, code, line)
    return {"code": code, "pieces": [{"geometry": shapely.geometry.mapping(piece.geometry), "area_km2": piece.area_km2}
                                     for piece in pieces]}
