"""Zoning layers: their kinds, allowed geometry types and attribute schemas.

Three layers are drawn over the units:

- ``industrial_clusters`` (cụm công nghiệp): Polygon / MultiPolygon outlines;
- ``tourism_sites`` (điểm du lịch): a Point (marker) or a Polygon (site outline);
- ``night_streets`` (tuyến phố đêm): LineString / MultiLineString.

A feature enters the system only through :func:`validate_feature` (one GeoJSON Feature)
or :func:`read_layer_file` (a GeoJSON / GeoPackage file), so every stored
:class:`ZoningFeature` has a valid EPSG:4326 geometry of an allowed type and attributes
checked by the pydantic model of its kind. Attributes the schema does not name (source,
OSM id, notes...) are kept as they are: data is never dropped silently.

**Markers.** Some real sources give only a point for an industrial cluster (for example
the centre of an OpenStreetMap outline). Strict validation refuses a Point for a cluster
because a cluster's area share cannot be computed from it. With ``allow_markers=True``
such a Point is accepted as a *marker*: the feature keeps its point, carries a
``geometry_note`` that says so, is counted by :mod:`layers.indicators` in the unit that
contains it, and contributes no area. :func:`read_zoning_collection` (the loader of the
mixed real file in ``shared/data``) uses this mode and reports the markers.
"""
from __future__ import annotations

from .features import check_feature_id, validate_feature
from .files import ZoningImport, features_to_gdf, read_layer_file, read_zoning_collection
from .geometry import (
                       check_geojson_coordinates,
                       geometry_from_geojson,
                       invalid_reason_location,
                       refuse_crs_member,
                       require_lonlat_range,
                       require_valid,
)
from .schema import (
                       ALLOWED_GEOMETRY_TYPES,
                       MARKER_NOTE,
                       ClusterStatus,
                       IndustrialClusterAttributes,
                       LayerAttributes,
                       LayerIssue,
                       LayerKind,
                       NightStreetAttributes,
                       TourismRank,
                       TourismSiteAttributes,
                       ZoningFeature,
)

__all__ = [
    "ALLOWED_GEOMETRY_TYPES", "MARKER_NOTE", "ClusterStatus", "IndustrialClusterAttributes", "LayerAttributes",
    "LayerIssue", "LayerKind", "NightStreetAttributes", "TourismRank", "TourismSiteAttributes", "ZoningFeature",
    "ZoningImport", "check_feature_id", "check_geojson_coordinates", "features_to_gdf", "geometry_from_geojson",
    "invalid_reason_location", "read_layer_file", "read_zoning_collection", "refuse_crs_member",
    "require_lonlat_range", "require_valid", "validate_feature",
]
