"""Run one named statement from ``sql/queries/`` and return its rows as dicts (column name -> value)."""

from __future__ import annotations

from typing import Optional

from fitbit_assets.warehouse.sql_files import sql_query


def fetch_rows(conn, query_name: str, params: Optional[dict] = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql_query(query_name), params)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]
