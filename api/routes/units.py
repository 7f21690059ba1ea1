"""GET /api/units: the active units as GeoJSON, filtered by province/district or searched by name."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ..deps import ServiceDep
from ..schemas import FeatureCollection

router = APIRouter(prefix="/api", tags=["units"])


class GeoJSONResponse(Response):
    """A response documented (and sent) as application/geo+json (RFC 7946)."""

    media_type = "application/geo+json"


@router.get("/units", summary="Units (GeoJSON FeatureCollection, EPSG:4326)", response_model=FeatureCollection,
            responses={200: {"description": "Units with code, name, kind, district, province, population (người), "
                                            "area_km2 (geodesic), official_area_km2, density (người/km²)",
                             "content": {"application/geo+json": {
                                 "schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}},
            response_class=GeoJSONResponse)
def list_units(
    service: ServiceDep,
    province: Annotated[str | None, Query(description="Province name; diacritics and prefix optional "
                                                      "('bac kan' = 'Tỉnh Bắc Kạn')")] = None,
    district: Annotated[str | None, Query(description="District name; diacritics and prefix optional")] = None,
    q: Annotated[str | None, Query(description="Search in unit names, diacritic-insensitive "
                                               "('duc xuan' finds 'Đức Xuân'), or a code prefix")] = None,
    geometry: Annotated[bool, Query(description="false: the same features with \"geometry\": null and a "
                                                "\"bbox\" [min lon, min lat, max lon, max lat] (6 decimals) "
                                                "each, a light list for search and zoom-to")] = True,
    dataset: Annotated[str | None, Query(description="Version of another stored units dataset "
                                                     "(GET /api/datasets); the default dataset when absent")] = None,
) -> Response:
    """Units of the default dataset (or of ``dataset``); filters are diacritic- and case-insensitive."""
    content = service.units_geojson_bytes(province=province, district=district, q=q, geometry=geometry,
                                          dataset=dataset)
    return Response(content, media_type="application/geo+json",
                    headers={"X-Units-Version": dataset or service.units.version})
