"""Store fixtures: every contract test runs once per store implementation.

``make_store()`` opens the store under test on a fresh, empty location; calling it again opens
the same location again (a restart). The PostGIS variant needs a server: give its DSN with
``--postgres-dsn`` or ``DIAGIOI_TEST_POSTGRES``; without one it is skipped.
"""
from __future__ import annotations

import pytest

from tests.store.store_helpers import postgis_dsn_or_skip, postgis_store_factory

from diagioi.api.store import SqliteStore


@pytest.fixture(params=["sqlite", "postgis"])
def make_store(request, tmp_path):
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "store")
        return
    dsn = postgis_dsn_or_skip(request.config)
    factory, cleanup = postgis_store_factory(dsn)
    yield factory
    cleanup()
