"""Persistence of the service: units datasets, scenarios, zoning layers and the audit log.

The service talks to storage only through the :class:`Store` protocol: plain records in,
plain records out, no file paths. Implementations:

* :class:`~.sqlite.SqliteStore` — the embedded default, one SQLite file;
* :class:`~.postgis.PostgisStore` — PostgreSQL/PostGIS (``postgresql://…``), see :func:`open_store`.

Every implementation passes the same contract suite (``tests/store/``): CRUD, optimistic
concurrency (a stale write raises :class:`geo.errors.ConflictError` → HTTP 409), each write
atomic together with its audit row, no half-written batch, and units datasets kept by their
content hash and read back with the same figures.
"""
from __future__ import annotations

from .records import (AuditEntry, FeatureRecord, NewFeature, ScenarioRecord, Store, StoreVersions,
                      UnitsDatasetRecord)
from .sqlite import SqliteStore


def open_store(location: str | None, *, data_dir, pool_size: int | None = None) -> Store:
    """The store named by ``location`` (``--store`` / ``DIAGIOI_STORE``).

    * ``None``, ``""`` or ``sqlite``: the embedded SQLite store in ``data_dir`` (default);
    * ``sqlite:/folder``: the embedded store in another folder;
    * ``postgresql://user@host:port/db`` (``#schema`` optional, default ``diagioi``): PostGIS, with
      ``pool_size`` connections per process (default: :func:`~.postgis.default_pool_size`).
    """
    from diagioi.geo.errors import InputError

    if location in (None, "", "sqlite"):
        return SqliteStore(data_dir)
    if location.startswith("sqlite:"):
        return SqliteStore(location[len("sqlite:"):])
    if location.startswith(("postgresql://", "postgres://")):
        from .postgis import PostgisStore

        dsn, _, schema = location.partition("#")
        return PostgisStore(dsn, schema=schema or "diagioi", pool_size=pool_size)
    raise InputError(f"unknown store {location.split('://')[0]!r}",
                     hint="use sqlite (default, in --data-dir), sqlite:/path/to/folder or "
                          "postgresql://user@host/db",
                     context={"store": location.split("://")[0]})


__all__ = ["AuditEntry", "FeatureRecord", "NewFeature", "ScenarioRecord", "SqliteStore", "Store", "StoreVersions",
           "UnitsDatasetRecord", "open_store"]
