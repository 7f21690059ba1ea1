"""``diagioi tiles export``: the live tile layers of a store written as one static PMTiles archive.

The layers are the service's own tile sources (:meth:`~api.service.Service.tile_source`), so the
archive has the attributes, versions and geometry of ``/api/tiles`` — for static hosting or a CDN,
opened read-only by the web app (``?pmtiles=URL``).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

from diagioi.geo.errors import InputError
from diagioi.layers.models import LayerKind
from diagioi.layers.pmtiles_archive import PmtilesReport, write_pmtiles

from .service import SCENARIO_LAYER_PREFIX, Service
from .settings import Settings

FORMATS = ("pmtiles",)


def layer_ids(requested: Sequence[str], scenario: str | None) -> list[str] | None:
    """Tile layer ids from ``--layers`` (repeatable or comma-separated; ``scenario`` = the ``--scenario``)."""
    names = [name.strip() for item in requested for name in item.split(",") if name.strip()]
    if not names:
        return None
    ids = []
    for name in names:
        if name == "scenario":
            if scenario is None:
                raise InputError("layer 'scenario' needs --scenario ID", hint="list the scenarios with "
                                 "GET /api/scenarios, or leave 'scenario' out of --layers")
            name = f"{SCENARIO_LAYER_PREFIX}{scenario}"
        ids.append(name)
    return ids


def export_tiles(out: Path, *, fmt: str = "pmtiles", scenario: str | None = None, layers: Sequence[str] = (),
                 minzoom: int = 0, maxzoom: int = 14, store: str | None = None,
                 data_dir: Path | None = None) -> PmtilesReport:
    """Write the units, the scenario (when given) and the zoning layers of the store to ``out``.

    Without ``layers``: ``units``, ``scenario-{id}`` with ``scenario``, and every zoning layer that
    has features. A named layer that does not exist is a :class:`NotFoundError` with the valid names.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown tile archive format {fmt!r}", hint="use --format pmtiles",
                         context={"format": fmt})
    overrides: dict = {"seed_demo": False,
                       # Nothing is served: a throw-away key instead of reading or creating <data dir>/token.
                       "token": secrets.token_hex(16)}
    if store:
        overrides["store"] = store
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    service = Service(Settings(**overrides))
    ids = layer_ids(layers, scenario)
    if ids is None:
        ids = ["units"]
        if scenario is not None:
            ids.append(f"{SCENARIO_LAYER_PREFIX}{scenario}")
        ids += [kind.value for kind in LayerKind if service.store.layer_version(kind.value) > 0
                and service.store.list_features(kind.value)]
    sources = [service.tile_source(layer_id) for layer_id in ids]
    active = service.store.active_units_dataset()
    return write_pmtiles(sources, out, minzoom=minzoom, maxzoom=maxzoom, name="diagioi",
                         description="Bản đồ đơn vị hành chính, phương án sắp xếp và các lớp quy hoạch",
                         attribution=active.name if active else "")
