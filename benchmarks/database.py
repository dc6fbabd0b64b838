"""The benchmarks' dedicated PostgreSQL: the product's embedded server (``fitbit_assets.warehouse.embedded_server``) on the
benchmark's own data dir, a fresh database per case, and small SQL helpers for measuring."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql

from benchmarks.report import median
from fitbit_assets.warehouse.embedded_server import ensure_server, stop_server

BENCH_SQL = Path(__file__).resolve().parent / "sql"


def bench_sql(name: str) -> str:
    """A benchmark-only statement from ``benchmarks/sql/`` (the product's own live in ``sql/``)."""
    return (BENCH_SQL / f"{name}.sql").read_text()


class BenchServer:
    """The embedded server on ``pgdata`` (never the demo's): started or attached to, stopped by ``stop``."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata)
        self.info = ensure_server(self.pgdata)

    def dsn(self, database: str = "postgres") -> str:
        return self.info.get_uri(database=database)

    def _admin(self, statement: sql.Composable | str, params=None):
        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def exists(self, database: str) -> bool:
        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = %s", (database,)))

    def fresh(self, database: str) -> str:
        """An empty database named ``database`` (dropped first if a previous run left it)."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return self.dsn(database)

    def version(self) -> str:
        return self._admin("SHOW server_version")[0][0]

    def stop(self) -> None:
        stop_server(self.pgdata)


@contextmanager
def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn, application_name="fitbit_benchmarks")
    try:
        conn.autocommit = autocommit
        yield conn
    finally:
        conn.close()


def scalar(conn, statement, params=None):
    with conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0]


def row_count(conn, table: str) -> int:
    return scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))


def execute(conn, statement, params=None) -> None:
    with conn.cursor() as cur:
        cur.execute(statement, params)
    if not conn.autocommit:
        conn.commit()


def vacuum_analyze(dsn: str, table: str | None = None) -> None:
    with connect(dsn, autocommit=True) as conn:
        execute(conn, sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)) if table else "VACUUM ANALYZE")


def heart_rate_bytes(conn) -> tuple[int, int, int]:
    """(heap, PK btree, everything) bytes of heart_rate, summed over its partitions when it has any."""
    with conn.cursor() as cur:
        cur.execute(bench_sql("relation_bytes"), {"rel": "heart_rate"})
        heap, total = cur.fetchone()
        cur.execute(bench_sql("relation_bytes"), {"rel": "heart_rate_pkey"})
        pkey = cur.fetchone()[0]
    return int(heap), int(pkey), int(total)


def plan_node(conn, statement: str, params=None) -> str:
    """The interesting node of the plan (first scan or append below aggregates), for the tables."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + statement, params)
        plan = cur.fetchone()[0][0]["Plan"]
    while plan.get("Node Type") in ("Aggregate", "Gather", "Gather Merge", "Sort", "Finalize Aggregate",
                                    "Partial Aggregate", "Result", "Limit", "Incremental Sort"):
        plan = plan["Plans"][0]
    node = plan["Node Type"]
    if node == "Append":
        children = plan.get("Plans", [])
        kinds = sorted({child["Node Type"] for child in children})
        return f"Append of {len(children)} partition(s): {', '.join(kinds)}"
    if node == "Bitmap Heap Scan" and plan.get("Plans"):
        plan = plan["Plans"][0]
    index = plan.get("Index Name")
    return f"{node} ({index})" if index else node


def planning_seconds(conn, statement: str, params=None) -> float:
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (SUMMARY, FORMAT JSON) " + statement, params)
        seconds = cur.fetchone()[0][0]["Planning Time"] / 1000
    conn.commit()
    return seconds


def relation_locks(conn, statement: str, params=None) -> int:
    """Relation locks (tables and indexes) that planning ``statement`` takes and holds to the end of the transaction."""
    probe = "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
    with conn.cursor() as cur:
        cur.execute(probe)
        baseline = cur.fetchone()[0]
        cur.execute("EXPLAIN " + statement, params)
        cur.fetchall()
        cur.execute(probe)
        held = cur.fetchone()[0]
    conn.rollback()
    return held - baseline


def warm_median(conn, statement: str, params, reps: int) -> tuple[float, list]:
    """Median wall time of ``reps`` warm executions (one more first, to warm the cache) and the last result."""
    timings = []
    with conn.cursor() as cur:
        for rep in range(reps + 1):
            started = time.perf_counter()
            cur.execute(statement, params)
            result = cur.fetchall()
            if rep:
                timings.append(time.perf_counter() - started)
    conn.commit()
    return median(timings), result
