"""The PostGIS store's connection pool: one per server and process, bounded, shared by its stores.

Needs a PostGIS server (DIAGIOI_TEST_POSTGRES or --postgres-dsn), else skipped.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from diagioi.api.store.postgis import PostgisStore, default_pool_size
from tests.store.store_helpers import fresh_schema, postgis_dsn_or_skip


@pytest.fixture
def schema_dsn(request):
    dsn = postgis_dsn_or_skip(request.config)
    schema, cleanup = fresh_schema(dsn)
    yield dsn, schema
    cleanup()


def test_the_pool_is_shared_out_between_the_worker_processes():
    assert default_pool_size(1) == 16
    assert default_pool_size(4) == 15      # 60 connections for 4 workers
    assert default_pool_size(8) == 7
    assert default_pool_size(64) == 2      # never fewer than 2 per worker


def test_many_concurrent_writers_share_a_pool_of_two_connections_and_nothing_is_lost(schema_dsn):
    dsn, schema = schema_dsn
    store = PostgisStore(dsn, schema=schema, pool_size=2)
    created = store.create_scenario({"name": "Pool", "new_units": []}, actor="test", base_data_version=None)

    def write(i: int) -> str:
        return store.create_scenario({"name": f"Phương án {i}", "new_units": []}, actor=f"writer-{i}",
                                     base_data_version=None).scenario_id

    with ThreadPoolExecutor(max_workers=12) as pool:
        written = list(pool.map(write, range(40)))

    stats = store._pool.get_stats()
    assert stats["pool_max"] == 2
    assert stats["pool_size"] <= 2          # never more connections than the pool's size
    assert stats.get("requests_waiting", 0) == 0
    stored = {record.scenario_id for record in store.list_scenarios()}
    assert stored == {created.scenario_id, *written}
    assert len(store.audit_log(object_type="scenario", limit=100)) == 41

    # A second store on the same server in this process uses the same pool.
    assert PostgisStore(dsn, schema=schema, pool_size=2)._pool is store._pool


def test_an_unreachable_server_is_a_503_style_error_with_a_hint():
    from diagioi.api.errors import ServerBusyError, status_for

    with pytest.raises(ServerBusyError) as raised:
        PostgisStore("postgresql://nobody@127.0.0.1:1/none", schema="diagioi", pool_size=1)
    assert status_for(raised.value) == 503
    assert "DSN" in raised.value.hint
