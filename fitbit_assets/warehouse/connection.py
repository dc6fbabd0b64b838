"""Connection-level helpers shared by the writers (Dagster side) and the read-only API: no Dagster import here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions


class WarehouseUnavailableError(RuntimeError):
    """The database cannot be reached; nothing was written."""


def redact(dsn: str) -> str:
    """``dsn`` with its password masked, for error messages and logs."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", re.sub(r"password=\S+", "password=***", dsn))


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
