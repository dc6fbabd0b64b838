"""Connection-level helpers shared by the writers (Dagster side) and the read-only API: no Dagster import here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions


class WarehouseUnavailableError(RuntimeError):
    """The database cannot be reached; nothing was written."""


def redact(dsn: str) -> str:
    """``dsn`` with its password masked, for error messages and logs: parsed by libpq itself, so every form it
    accepts (quoted values, URIs with the password in the authority or the query) is masked."""
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return "(a DSN libpq cannot parse)"  # its message, or a regex guess, could show the password
    if "password" in params:
        params["password"] = "***"
    return " ".join(f"{key}={value}" for key, value in params.items())


@contextmanager
def transaction(conn) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor whose statements commit together when the block ends. Any exception (an interrupt included) rolls
    back first, so the connection is usable again and readers keep seeing the previous rows."""
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
