"""The API's own read-only database connections.

``FITBIT_API_DSN`` (default: the warehouse DSN, i.e. the embedded PostgreSQL when that is unset) is opened
through a small thread-safe pool. Every connection is made read-only twice over: ``SET ROLE`` to the reader
role (``FITBIT_API_ROLE``, default ``fitbit_api_reader`` from sql/common/099_api_reader.sql, which has SELECT
only) and ``default_transaction_read_only``. The API never sends client-supplied SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import psycopg2
import psycopg2.extensions
import psycopg2.pool
from psycopg2 import sql

from fitbit_assets.warehouse.connection import WarehouseUnavailableError, redact

DEFAULT_READER_ROLE = "fitbit_api_reader"


class ReadOnlyDatabase:
    def __init__(self, dsn: str, role: Optional[str] = DEFAULT_READER_ROLE, max_connections: int = 8):
        self.dsn = dsn
        self.role = role or None
        self.max_connections = max_connections
        self._pool: Optional[psycopg2.pool.ThreadedConnectionPool] = None
        self._lock = threading.Lock()
        self._prepared: set[int] = set()

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                try:
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        0, self.max_connections, self.dsn, connect_timeout=10, application_name="fitbit_assets_api"
                    )
                except psycopg2.OperationalError as exc:
                    raise WarehouseUnavailableError(f"cannot connect to {redact(self.dsn)}: {exc}".strip()) from exc
            return self._pool

    def _prepare(self, conn) -> None:
        """Once per physical connection: autocommit reads, read-only transactions, the reader role."""
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = on")
            if self.role:
                try:
                    cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.role)))
                except psycopg2.Error as exc:
                    raise WarehouseUnavailableError(
                        f"the API cannot SET ROLE {self.role} on {redact(self.dsn)}: {exc}".strip()
                        + " (log in as that role, grant it to the login role, or set FITBIT_API_ROLE=none to rely on "
                        "read-only transactions only)"
                    ) from exc
        self._prepared.add(id(conn))

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        pool = self._get_pool()
        try:
            conn = pool.getconn()
        except (psycopg2.OperationalError, psycopg2.pool.PoolError) as exc:
            raise WarehouseUnavailableError(f"cannot connect to {redact(self.dsn)}: {exc}".strip()) from exc
        broken = False
        try:
            if id(conn) not in self._prepared:
                self._prepare(conn)
            yield conn
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        except WarehouseUnavailableError:
            broken = True
            raise
        finally:
            if broken or conn.closed:
                self._prepared.discard(id(conn))
            pool.putconn(conn, close=broken or bool(conn.closed))

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None
                self._prepared.clear()
