"""The zoning layer kinds, their allowed geometry types and the pydantic attribute model of each kind."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from diagioi.geo.errors import InputError
from diagioi.geo.i18n import Message, catalogue


class LayerKind(StrEnum):
    """The zoning layers drawn over the units (ASCII values, used in URLs and files)."""

    industrial_clusters = "industrial_clusters"
    tourism_sites = "tourism_sites"
    night_streets = "night_streets"

    @property
    def label_vi(self) -> str:
        return catalogue("vi")[f"zoning.{self.value}"]

    @property
    def label_en(self) -> str:
        return catalogue("en")[f"zoning.{self.value}"]

    @property
    def geometry_types(self) -> tuple[str, ...]:
        """GeoJSON geometry types a feature of this layer may have (strict mode)."""
        return ALLOWED_GEOMETRY_TYPES[self]

    @property
    def attributes_model(self) -> type["LayerAttributes"]:
        return ATTRIBUTE_MODELS[self]

    @classmethod
    def parse(cls, value: object) -> "LayerKind":
        """Accept the layer id, its singular form (``tourism_site``) or the Vietnamese label."""
        if isinstance(value, LayerKind):
            return value
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        for kind in cls:
            if key in (kind.value, kind.value.rstrip("s"), kind.label_vi.lower().replace(" ", "_")):
                return kind
        raise InputError(Message("error.unknown_layer", {"kind": repr(value)}),
                         hint=Message("hint.one_of", {"values": "|".join(k.value for k in cls)}), code="input")


ALLOWED_GEOMETRY_TYPES: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.industrial_clusters: ("Polygon", "MultiPolygon"),
    LayerKind.tourism_sites: ("Point", "Polygon"),
    LayerKind.night_streets: ("LineString", "MultiLineString"),
}

#: Geometry types accepted in ``allow_markers`` mode on top of the strict ones.
MARKER_GEOMETRY_TYPES: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.industrial_clusters: ("Point",),
    LayerKind.tourism_sites: (),
    LayerKind.night_streets: (),
}

MARKER_NOTE = "point marker: outline unknown; counted in the unit that contains it, no area (chỉ có điểm, chưa có ranh giới)"


class ClusterStatus(StrEnum):
    """Stage of an industrial cluster."""

    planned = "planned"        # quy hoạch
    operating = "operating"    # đang hoạt động

    @property
    def label_vi(self) -> str:
        return {ClusterStatus.planned: "Quy hoạch", ClusterStatus.operating: "Đang hoạt động"}[self]


class TourismRank(StrEnum):
    """Rank of a tourism site (điểm du lịch cấp tỉnh / quốc gia)."""

    provincial = "provincial"
    national = "national"

    @property
    def label_vi(self) -> str:
        return {TourismRank.provincial: "Cấp tỉnh", TourismRank.national: "Cấp quốc gia"}[self]


class LayerAttributes(BaseModel):
    """Attributes shared by every zoning feature: a name; other keys are kept as given."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, use_enum_values=False)

    name: str = Field(min_length=1, max_length=300, description="Tên (required)")


class IndustrialClusterAttributes(LayerAttributes):
    """Cụm công nghiệp. Only ``name`` is required: real sources rarely give the rest."""

    status: ClusterStatus | None = Field(None, description="planned | operating")
    area_ha: float | None = Field(None, gt=0, le=100_000, description="declared area, ha")
    occupancy_pct: float | None = Field(None, ge=0, le=100, description="tỷ lệ lấp đầy, %")
    investor: str | None = Field(None, max_length=300, description="chủ đầu tư")


class TourismSiteAttributes(LayerAttributes):
    """Điểm du lịch. ``rank`` None means not ranked (or unknown)."""

    category: str | None = Field(None, max_length=100, description="e.g. pagoda, craft_village")
    rank: TourismRank | None = Field(None, description="provincial | national")


_HOURS_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class NightStreetAttributes(LayerAttributes):
    """Tuyến phố đêm. ``hours`` is ``HH:MM-HH:MM`` (may pass midnight, ``18:00-02:00``)."""

    ward: str | None = Field(None, max_length=300, description="phường")
    hours: str | None = Field(None, description="opening hours, HH:MM-HH:MM")

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _HOURS_PATTERN.match(value)
        if not match:
            raise ValueError(f"hours must look like 18:00-23:30, got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"hours {value!r} are not clock times")
        return value


ATTRIBUTE_MODELS: dict[LayerKind, type[LayerAttributes]] = {
    LayerKind.industrial_clusters: IndustrialClusterAttributes,
    LayerKind.tourism_sites: TourismSiteAttributes,
    LayerKind.night_streets: NightStreetAttributes,
}


@dataclass(frozen=True)
class ZoningFeature:
    """One validated feature of a zoning layer (geometry in EPSG:4326)."""

    kind: LayerKind
    geometry: BaseGeometry
    attributes: LayerAttributes
    feature_id: str | None = None
    geometry_note: str | None = None

    @property
    def name(self) -> str:
        return self.attributes.name

    @property
    def is_marker(self) -> bool:
        """True when the geometry is a point standing for an outline we do not have."""
        return self.geometry_note is not None

    def properties(self) -> dict[str, Any]:
        """JSON-ready attributes (enums as their values, extras included)."""
        props = self.attributes.model_dump(mode="json")
        if self.geometry_note is not None:
            props["geometry_note"] = self.geometry_note
        return props

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON Feature (EPSG:4326)."""
        feature: dict[str, Any] = {"type": "Feature", "geometry": mapping(self.geometry),
                                   "properties": self.properties()}
        if self.feature_id is not None:
            feature["id"] = self.feature_id
        return feature


@dataclass
class LayerIssue:
    """A problem with one feature of an input file (all are reported together)."""

    feature: str          # feature id or row number
    name: str | None
    problem: str          # in English, for logs and the error's context
    location: tuple[float, float] | None = None
    # The problem as a catalogue message and the row number of a feature without an id: the error's
    # text is written from them in the reader's language (not part of the JSON form).
    message: Any = field(default=None, compare=False, repr=False)
    row: int | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "name": self.name, "problem": self.problem,
                "location": list(self.location) if self.location else None}
