"""The API's own database connections.

``FITBIT_API_DSN`` (default: the warehouse DSN, i.e. the embedded PostgreSQL when that is unset) is opened as the
login role ``FITBIT_API_ROLE`` (default ``fitbit_api_reader``, sql/common/099 and 110): the DSN's user is replaced,
and a connection whose login role is, or is a member of, a superuser or a role that creates roles or databases is
refused, so nothing sent on it can take more rights back (there is no SET ROLE to RESET). That role selects the
pipeline's tables, keeps dashboard sessions and appends audit rows; its connections run read-only transactions
unless a write opens one explicitly (``write_transaction``). The API never sends client-supplied SQL.

The pool has ``pool_size`` connections; a request waits at most ``pool_wait_seconds`` for one, then gets a 503
that says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import psycopg2
import psycopg2.extensions
import psycopg2.pool

from fitbit_assets.warehouse.connection import WarehouseUnavailableError, redact

DEFAULT_READER_ROLE = "fitbit_api_reader"

# The login role and every role it is a member of: none may be a superuser or create roles or databases.
_ESCALATION_CHECK = """
SELECT string_agg(r.rolname, ', ') FROM pg_roles r
WHERE pg_has_role(session_user, r.oid, 'MEMBER') AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls)
"""


class PoolBusyError(WarehouseUnavailableError):
    """Every connection stayed busy for the whole wait."""


def login_dsn(dsn: str, role: Optional[str]) -> str:
    """``dsn`` logging in as ``role`` (keyword form, whatever form ``dsn`` had)."""
    return psycopg2.extensions.make_dsn(dsn, user=role) if role else dsn


class ApiDatabase:
    def __init__(self, dsn: str, role: Optional[str] = DEFAULT_READER_ROLE, pool_size: int = 8,
                 pool_wait_seconds: float = 5.0):
        self.dsn = login_dsn(dsn, role)
        self.pool_size = pool_size
        self.pool_wait_seconds = pool_wait_seconds
        self._pool: Optional[psycopg2.pool.ThreadedConnectionPool] = None
        self._lock = threading.Lock()
        self._free = threading.BoundedSemaphore(pool_size)  # getconn itself fails at once when all are out
        self._prepared: set[int] = set()

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                try:
                    # minconn = maxconn: psycopg2's pool closes every connection returned above minconn, so a
                    # smaller minconn made nearly every request open (and vet) a new server connection.
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        self.pool_size, self.pool_size, self.dsn, connect_timeout=10,
                        application_name="fitbit_assets_api",
                    )
                except psycopg2.OperationalError as exc:
                    raise WarehouseUnavailableError(f"cannot connect to {redact(self.dsn)}: {exc}".strip()) from exc
            return self._pool

    def _prepare(self, conn) -> None:
        """Once per physical connection: refuse a login role that could escalate, then read-only autocommit in UTC."""
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(_ESCALATION_CHECK)
            (powerful,) = cur.fetchone()
            if powerful:
                raise WarehouseUnavailableError(
                    f"the API refuses to log in as a role that is or can become {powerful} (superuser, createrole, "
                    f"createdb or bypassrls) on {redact(self.dsn)}: log in as fitbit_api_reader (FITBIT_API_ROLE)"
                )
            cur.execute("SET default_transaction_read_only = on")
            cur.execute("SET TimeZone = 'UTC'")  # times the server writes into JSON responses come out in UTC
        self._prepared.add(id(conn))

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        pool = self._get_pool()
        if not self._free.acquire(timeout=self.pool_wait_seconds):
            raise PoolBusyError(
                f"all {self.pool_size} database connections stayed busy for {self.pool_wait_seconds:g} s "
                "(FITBIT_API_POOL_SIZE, FITBIT_API_POOL_WAIT_SECONDS)"
            )
        try:
            try:
                conn = pool.getconn()
            except (psycopg2.OperationalError, psycopg2.pool.PoolError) as exc:
                raise WarehouseUnavailableError(f"cannot connect to {redact(self.dsn)}: {exc}".strip()) from exc
            broken = False
            try:
                if id(conn) not in self._prepared:
                    self._prepare(conn)
                yield conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError, WarehouseUnavailableError):
                broken = True
                raise
            finally:
                if broken or conn.closed:
                    self._prepared.discard(id(conn))
                pool.putconn(conn, close=broken or bool(conn.closed))
        finally:
            self._free.release()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None
                self._prepared.clear()


@contextmanager
def write_transaction(conn) -> Iterator[psycopg2.extensions.cursor]:
    """One read-write transaction on an API connection (autocommit, read-only by default)."""
    with conn.cursor() as cur:
        cur.execute("BEGIN READ WRITE")
        try:
            yield cur
        except BaseException:
            if not conn.closed:
                cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
