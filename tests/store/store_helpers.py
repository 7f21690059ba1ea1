"""PostGIS helpers of the store and API tests (``from tests.store.store_helpers import …``)."""
from __future__ import annotations

import os
import uuid

import pytest


def postgis_dsn_or_skip(config) -> str:
    """The DSN of a PostGIS server for tests, or skip the test when none is reachable."""
    dsn = config.getoption("--postgres-dsn", default=None) or os.environ.get("DIAGIOI_TEST_POSTGRES")
    if not dsn:
        pytest.skip("no PostGIS server for tests (set DIAGIOI_TEST_POSTGRES or --postgres-dsn)")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed")
    try:
        with psycopg.connect(dsn, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        pytest.skip(f"PostGIS server {dsn} not reachable: {error}")
    return dsn


def fresh_schema(dsn: str):
    """(name, cleanup): a schema name no test used yet, and the function that drops it."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:10]}"

    def cleanup() -> None:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return schema, cleanup


def postgis_store_factory(dsn: str):
    """(factory, cleanup): stores on one fresh schema of the server, dropped afterwards."""
    from diagioi.api.store.postgis import PostgisStore

    schema, cleanup = fresh_schema(dsn)
    return (lambda: PostgisStore(dsn, schema=schema)), cleanup
