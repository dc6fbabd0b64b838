"""Read queries of the test suite and the benchmarks on a connection of their own."""

from __future__ import annotations

import psycopg2


def fetch_all(dsn: str, sql: str, params=None) -> list[tuple]:
    """Run a read query on a connection of its own and return all rows."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()
