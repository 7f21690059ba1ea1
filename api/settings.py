"""Settings of the HTTP service, read from ``DIAGIOI_*`` environment variables."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from diagioi.web import web_dir as _installed_web_dir


class Settings(BaseSettings):
    """One place for every knob of the service.

    ``DIAGIOI_DATA_DIR=/srv/diagioi DIAGIOI_TOKEN=... diagioi serve`` sets the fields below.
    """

    model_config = SettingsConfigDict(env_prefix="DIAGIOI_", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Field(default=Path("diagioi-data"),
                           description="Folder of the embedded store (SQLite file, copies of unit datasets).")
    store: str | None = Field(default=None,
                              description="Where the service keeps its data: sqlite (default, one file in data_dir) "
                                          "or postgresql://user@host/db (PostGIS).")
    db_pool_size: int | None = Field(default=None, ge=1,
                                     description="PostGIS connections per worker process (default: shared out of "
                                                 "60 between the --workers processes, 2 to 16 each).")
    token: str | None = Field(default=None,
                              description="Write token (Authorization: Bearer ...); generated at start-up if unset.")
    units_path: Path | None = Field(default=None,
                                    description="Unit boundaries to load (GeoJSON/GPKG/SHP); sample data if unset "
                                                "and the store holds no dataset yet.")
    raster_path: Path | None = Field(default=None,
                                     description="Population raster for drawn-polygon estimates (GeoTIFF).")
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, gt=0,
                                  description="Largest request body accepted, in bytes (larger → 413).")
    max_polygon_area_km2: float = Field(default=5_000.0, gt=0,
                                        description="Largest drawn polygon analysed, in km² (larger → 422).")
    anonymous_max_vertices: int = Field(default=2_000, gt=3,
                                        description="Most vertices of a polygon analysed without the write token "
                                                    "(with it: 20,000).")
    anonymous_max_area_km2: float = Field(default=1_000.0, gt=0,
                                          description="Largest polygon analysed without the write token, in km² "
                                                      "(with it: max_polygon_area_km2).")
    analysis_workers: int = Field(default=1, ge=1,
                                  description="Polygon analyses run at the same time; others wait their turn.")
    analysis_wait_s: float = Field(default=20.0, gt=0,
                                   description="Longest wait for a turn before answering 503 (server busy).")
    basemap_url: str | None = Field(default=None,
                                    description="Raster basemap URL template for the web map ({z}/{x}/{y}).")
    units_licence: str | None = Field(default=None,
                                      description="Licence of the unit layer, shown in the map's data attribution "
                                                  "(e.g. 'MIT, censusVN2009').")
    web_dir: Path = Field(default_factory=_installed_web_dir, description="Static browser app served at /.")
    seed_demo: bool = Field(default=True,
                            description="Seed sample zoning layers and the example scenario into a fresh store "
                                        "when the sample units are used.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names accepted in the Host header besides 127.0.0.1, localhost and [::1] "
                    "(comma-separated in DIAGIOI_ALLOWED_HOSTS; `*.example.org` matches its subdomains). "
                    "Any other Host gets 400: this defeats DNS rebinding.")
    public_url: str | None = Field(default=None,
                                   description="Public base URL (e.g. https://diagioi.example.org/prefix) used for "
                                               "absolute links such as TileJSON tile URLs; unset → relative URLs. "
                                               "Its host is accepted in the Host header.")
    proxy: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
                    "(comma-separated in DIAGIOI_PROXY); unset → those headers are ignored.")
    tile_max_age_s: int = Field(default=3600, ge=0,
                                description="Cache-Control max-age of versioned tiles, in seconds.")

    @field_validator("allowed_hosts", "proxy", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [item.strip() for item in value if item and item.strip()]

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            bare = host.removeprefix("*.")
            if not bare or any(c in bare for c in "/@?#* \t") or "://" in host:
                raise ValueError(f"{host!r} is not a host name: give a bare name such as diagioi.example.org "
                                 "(no scheme, no path)")
        return hosts

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
                or parts.username or parts.password:
            raise ValueError(f"{value!r} is not a public base URL: give http(s)://host[:port][/prefix], "
                             "without query, fragment or credentials")
        return value.strip().rstrip("/")

    @property
    def accepted_host_names(self) -> list[str]:
        """Host names accepted besides the loopback ones: ``allowed_hosts`` and the host of ``public_url``."""
        public = [urlsplit(self.public_url).hostname] if self.public_url else []
        return [*self.allowed_hosts, *public]
