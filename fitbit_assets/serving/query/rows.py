"""Run one named statement from ``sql/queries/`` and return its rows as dicts (column name -> value), or as the
JSON array the server builds of them."""

from __future__ import annotations

from functools import cache
from typing import Optional

from fitbit_assets.warehouse.sql_files import sql_query


def fetch_rows(conn, query_name: str, params: Optional[dict] = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql_query(query_name), params)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]


@cache
def _json_statement(query_name: str) -> str:
    return sql_query("api_rows_json").format(query=sql_query(query_name))


def fetch_json(conn, query_name: str, params: Optional[dict] = None) -> str:
    """The rows as a JSON array (column name -> value; dates and times ISO 8601): for many rows several times
    cheaper than Python objects validated and serialized again."""
    with conn.cursor() as cur:
        cur.execute(_json_statement(query_name), params)
        return cur.fetchone()[0]
