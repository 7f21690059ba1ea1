"""Settings of the HTTP service, read from ``DIAGIOI_*`` environment variables."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    basemap_url: str | None = Field(default=None,
                                    description="Raster basemap URL template for the web map ({z}/{x}/{y}).")
    web_dir: Path = Field(default_factory=_installed_web_dir, description="Static browser app served at /.")
    seed_demo: bool = Field(default=True,
                            description="Seed sample zoning layers and the example scenario into a fresh store "
                                        "when the sample units are used.")
    share_token_locally: bool = Field(default=True,
                                      description="GET /api/session gives the write token to a browser on the "
                                                  "same machine (loopback only).")
    tile_max_age_s: int = Field(default=3600, ge=0,
                                description="Cache-Control max-age of versioned tiles, in seconds.")
