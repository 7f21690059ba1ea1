"""The PostgreSQL/PostGIS store: the same :class:`~.records.Store` contract on a database server.

``diagioi serve --store postgresql://user@host/db`` (or ``DIAGIOI_STORE``) selects it. Several
service processes — on one machine or several — can share one database: every write is one
transaction that also appends its audit row; optimistic concurrency takes the row lock
(``SELECT … FOR UPDATE``) before comparing versions, so of two writers on one version exactly
one wins and the other gets :class:`~geo.errors.ConflictError` (HTTP 409).

The program creates and migrates its own schema (default ``diagioi``; tables only in it) and
records the schema version in ``meta``, read back by :meth:`PostgisStore.schema_version`.
Units are rows with a PostGIS geometry (EPSG:4326) beside their exact WKB, so the figures read
back are bit-identical while the database can index and query the boundaries.

Connections come from one pool per server and process (``psycopg_pool``), shared by the stores
of that process (each transaction sets its schema), sized by :func:`default_pool_size` for the
number of worker processes so N workers stay within the server's connection limit.
"""
from __future__ import annotations

import atexit
import json
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from diagioi.geo.errors import DiagioiError, InputError, NotFoundError
from diagioi.geo.i18n import Message
from diagioi.geo.units import UnitSet

from .codec import UnitRow, decode_units, encode_units
from .records import UnitsDatasetRecord, missing_dataset, now_text
from .sql import SqlStore, dumps

SCHEMA_VERSION = 2
_LOCK_KEY = 7_401_126  # advisory lock taken while the schema is created or migrated

#: Connections all the workers of one machine may hold (PostgreSQL allows 100 by default; some stay
#: free for administration and for other machines' workers).
CONNECTION_BUDGET = 60
#: Longest wait for a free connection (or for the server to answer) before a request gets 503.
CONNECTION_WAIT_S = 20.0

_pools: dict[tuple[str, int], Any] = {}
_pools_lock = threading.Lock()
#: The search_path each pooled connection's session has (set when a store of another schema takes it).
_session_search_path: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def default_pool_size(workers: int = 1) -> int:
    """Connections per worker process: the budget shared by ``workers`` processes (2 to 16 each)."""
    return max(2, min(16, CONNECTION_BUDGET // max(int(workers), 1)))


def _pool_for(dsn: str, size: int):
    """The process's pool of connections to ``dsn`` (opened on first use; several stores share it)."""
    import psycopg
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get((dsn, size))
        if pool is None:
            # One plain connection first: a wrong DSN or a stopped server fails at once, with its reason.
            psycopg.connect(dsn, connect_timeout=10).close()
            # Autocommit: a read is one statement, one round trip; a write opens its own transaction.
            pool = ConnectionPool(dsn, min_size=1, max_size=size, open=False, timeout=CONNECTION_WAIT_S,
                                  kwargs={"connect_timeout": 10, "autocommit": True},
                                  name=f"diagioi-{len(_pools) + 1}")
            _pools[(dsn, size)] = pool
            pool.open(wait=False)
        return pool


def close_pools() -> None:
    """Close every pool of this process (at exit, and before ``--workers`` hands over to its workers)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)

_TABLES = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS units_datasets (
        version TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL, data_date TEXT,
        unit_count INTEGER NOT NULL, imported_at TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT FALSE,
        meta JSON NOT NULL)""",
    """CREATE UNIQUE INDEX IF NOT EXISTS units_datasets_one_active ON units_datasets (active) WHERE active""",
    """CREATE TABLE IF NOT EXISTS unit_rows (
        dataset_version TEXT NOT NULL REFERENCES units_datasets (version), position INTEGER NOT NULL,
        code TEXT NOT NULL, properties JSON NOT NULL, wkb BYTEA NOT NULL,
        geom public.geometry(Geometry, 4326),
        PRIMARY KEY (dataset_version, position))""",
    """CREATE INDEX IF NOT EXISTS unit_rows_geom ON unit_rows USING GIST (geom)""",
    """CREATE TABLE IF NOT EXISTS scenarios (
        scenario_id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, body JSON NOT NULL,
        units_version TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS layer_features (
        kind TEXT NOT NULL, feature_id TEXT NOT NULL, version INTEGER NOT NULL, geometry JSON NOT NULL,
        properties JSON NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq BIGSERIAL,
        geom public.geometry(Geometry, 4326),
        PRIMARY KEY (kind, feature_id))""",
    """CREATE INDEX IF NOT EXISTS layer_features_geom ON layer_features USING GIST (geom)""",
    """CREATE TABLE IF NOT EXISTS layer_versions (kind TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        entry_id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        object_type TEXT NOT NULL, object_id TEXT NOT NULL, before JSON, after JSON, base_data_version TEXT)""",
    """CREATE INDEX IF NOT EXISTS audit_object ON audit_log (object_type, object_id)""",
]


class PostgisStore(SqlStore):
    """Store on PostgreSQL with PostGIS. ``dsn``: ``postgresql://user@host:port/db``; ``schema``: its tables."""

    # The dialect of SqlStore: JSON read as text, row locks, features indexed by a PostGIS geometry.
    _SCENARIO_COLUMNS = "scenario_id, name, version, body::text, units_version, created_at, updated_at"
    _FEATURE_COLUMNS = "kind, feature_id, version, geometry::text, properties::text, created_at, updated_at"
    _AUDIT_COLUMNS = ("entry_id, at, actor, action, object_type, object_id, before::text, after::text,"
                      " base_data_version")
    _FEATURE_ORDER = "created_at, seq"
    _FOR_UPDATE = " FOR UPDATE"
    _GEOM_COLUMN = "geom"
    _GEOM_VALUE = "public.ST_SetSRID(public.ST_GeomFromGeoJSON(%s), 4326)"
    _ACTIVE_DATASET = "active"
    _LAYER_VERSIONS_JSON = "json_object_agg(kind, version)::text"

    def _lock_layer(self, db, kind: str) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"layer:{kind}",))

    def __init__(self, dsn: str, *, schema: str = "diagioi", pool_size: int | None = None):
        try:
            import psycopg
            import psycopg_pool  # noqa: F401
        except ImportError as error:
            raise InputError("the PostGIS store needs the psycopg and psycopg_pool packages",
                             hint="pip install 'diagioi[postgis]' (or pip install 'psycopg[binary,pool]')") from error
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise InputError(f"invalid schema name {schema!r}", hint="use lower-case letters, digits and _")
        if pool_size is not None and pool_size < 1:
            raise InputError(f"invalid connection pool size {pool_size}", hint="use 1 or more")
        self._dsn = dsn
        self._schema = schema
        self._search_path = f'"{schema}", public'
        self.pool_size = pool_size or default_pool_size()
        try:
            self._pool = _pool_for(dsn, self.pool_size)
        except psycopg.OperationalError as error:
            raise _unreachable(error, self.describe()) from None
        with self._write() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cursor.execute("SET LOCAL search_path TO public")  # the extension goes where it always goes
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cursor.execute(f'SET LOCAL search_path TO "{schema}", public')
            for statement in _TABLES:
                cursor.execute(statement)
            cursor.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
                           (str(SCHEMA_VERSION),))
            row = cursor.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if int(row[0]) > SCHEMA_VERSION:
                raise DiagioiError(
                    f"the database schema is version {row[0]}, newer than this diagioi ({SCHEMA_VERSION})",
                    hint="upgrade diagioi on this machine (every worker must run the same version)")
            # Later schema versions migrate here, inside this locked transaction.

    # ------------------------------------------------------------------ plumbing
    def describe(self) -> str:
        """The server and schema, without the password."""
        shown = re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", self._dsn)
        return f"postgis:{shown}#{self._schema}"

    @contextmanager
    def _connect(self):
        """A connection of the pool for one transaction; returned (or discarded if broken) afterwards."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as connection:
                # Stores of several schemas share the pool: the session's search_path follows this store's.
                if _session_search_path.get(connection) != self._search_path:
                    connection.execute(f"SET search_path TO {self._search_path}")
                    _session_search_path[connection] = self._search_path
                yield connection
        except (PoolTimeout, psycopg.OperationalError) as error:
            raise _unreachable(error, self.describe()) from None

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """A cursor for reads: each statement on its own (autocommit), as every read is one statement or
        reads rows that are never changed once committed (a units dataset)."""
        with self._connect() as connection:
            yield connection.cursor()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._connect() as connection:
            with connection.transaction():
                yield connection.cursor()

    def schema_version(self) -> int:
        with self._read() as cursor:
            return int(cursor.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])

    # ------------------------------------------------------------------ units datasets
    @staticmethod
    def _dataset(row) -> UnitsDatasetRecord:
        version, name, source, data_date, unit_count, imported_at, active = row
        return UnitsDatasetRecord(version=version, name=name, source=source, unit_count=unit_count,
                                  imported_at=imported_at, active=bool(active), data_date=data_date)

    _DATASET_COLUMNS = "version, name, source, data_date, unit_count, imported_at, active"

    def put_units_dataset(self, units: UnitSet, *, name: str, source: str, actor: str,
                          data_date: str | None = None, activate: bool = True) -> UnitsDatasetRecord:
        version = units.version
        meta, rows = encode_units(units)
        with self._write() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('units_datasets'))")
            inserted = cursor.execute(
                "INSERT INTO units_datasets (version, name, source, data_date, unit_count, imported_at, active, meta)"
                " VALUES (%s, %s, %s, %s, %s, %s, FALSE, %s) ON CONFLICT (version) DO NOTHING RETURNING version",
                (version, name, source, data_date, len(rows), now_text(), dumps(meta))).fetchone()
            if inserted is not None:
                cursor.executemany(
                    "INSERT INTO unit_rows (dataset_version, position, code, properties, wkb, geom)"
                    " VALUES (%s, %s, %s, %s, %s, public.ST_SetSRID(public.ST_GeomFromWKB(%s), 4326))",
                    [(version, row.position, row.code, row.properties, row.geometry, row.geometry) for row in rows])
                self._audit(cursor, actor=actor, action="import", object_type="unit_dataset", object_id=version,
                            before=None, after={"version": version, "name": name, "source": source,
                                                "data_date": data_date, "unit_count": len(rows)},
                            base_data_version=version)
            if activate:
                self._activate(cursor, version, actor)
        return self.get_units_dataset(version)

    def _activate(self, cursor, version: str, actor: str) -> None:
        previous = cursor.execute("SELECT version FROM units_datasets WHERE active").fetchone()
        if previous is not None and previous[0] == version:
            return
        cursor.execute("UPDATE units_datasets SET active = FALSE WHERE active")
        cursor.execute("UPDATE units_datasets SET active = TRUE WHERE version = %s", (version,))
        self._audit(cursor, actor=actor, action="activate", object_type="unit_dataset", object_id=version,
                    before=None if previous is None else {"version": previous[0]}, after={"version": version},
                    base_data_version=version)

    def list_units_datasets(self) -> list[UnitsDatasetRecord]:
        with self._read() as cursor:
            rows = cursor.execute(f"SELECT {self._DATASET_COLUMNS} FROM units_datasets"
                                  " ORDER BY imported_at, version").fetchall()
        return [self._dataset(row) for row in rows]

    def get_units_dataset(self, version: str) -> UnitsDatasetRecord:
        with self._read() as cursor:
            row = cursor.execute(f"SELECT {self._DATASET_COLUMNS} FROM units_datasets WHERE version = %s",
                                 (version,)).fetchone()
        if row is None:
            raise _no_dataset(version)
        return self._dataset(row)

    def load_units(self, version: str) -> UnitSet:
        with self._read() as cursor:
            record = cursor.execute("SELECT meta::text FROM units_datasets WHERE version = %s", (version,)).fetchone()
            if record is None:
                raise _no_dataset(version)
            rows = cursor.execute("SELECT position, code, properties::text, wkb FROM unit_rows"
                                  " WHERE dataset_version = %s ORDER BY position", (version,)).fetchall()
        return decode_units(json.loads(record[0]), [UnitRow(r[0], r[1], r[2], bytes(r[3])) for r in rows])

    def active_units_dataset(self) -> UnitsDatasetRecord | None:
        with self._read() as cursor:
            row = cursor.execute(f"SELECT {self._DATASET_COLUMNS} FROM units_datasets WHERE active").fetchone()
        return None if row is None else self._dataset(row)

    def activate_units_dataset(self, version: str, *, actor: str) -> UnitsDatasetRecord:
        with self._write() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('units_datasets'))")
            if cursor.execute("SELECT 1 FROM units_datasets WHERE version = %s", (version,)).fetchone() is None:
                raise _no_dataset(version)
            self._activate(cursor, version, actor)
        return self.get_units_dataset(version)


def _unreachable(error: Exception, store: str) -> DiagioiError:
    """503: the server cannot be reached, or every pooled connection stayed busy for the whole wait."""
    from ..errors import ServerBusyError

    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return ServerBusyError(Message("error.store_unreachable", {"reason": first_line}),
                           hint=Message("hint.store_unreachable"), context={"store": store}, code="server_busy")


def _no_dataset(version: str) -> NotFoundError:
    return missing_dataset(version)
