"""Schema apply: the ``sql/`` files on TimescaleDB when the server has the extension, plain PostgreSQL otherwise."""

from __future__ import annotations

import collections
import logging
from typing import Literal

import psycopg2

from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import schema_files

SCHEMA_LOCK_ID = 7_303_001  # pg_advisory_xact_lock key: one schema writer at a time across processes

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """A ``sql/`` file failed to apply."""


def timescaledb_available(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        return cur.fetchone() is not None


def apply_schema(conn, timescaledb: Literal["auto", "require", "off"] = "auto") -> str:
    """Apply ``sql/`` idempotently in one transaction; returns the backend used."""
    available = timescaledb_available(conn)
    if timescaledb == "require" and not available:
        raise SchemaError("timescaledb='require' but the server has no timescaledb extension")
    backend = "timescaledb" if available and timescaledb != "off" else "postgres"
    # The schema's own notices, collected apart (a deque: psycopg2 keeps only the last 50 of a plain list).
    caller_notices, conn.notices = conn.notices, collections.deque()
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            if backend == "timescaledb":
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            for path in schema_files(backend):
                try:
                    cur.execute(path.read_text())
                except psycopg2.Error as exc:
                    raise SchemaError(f"{path.relative_to(path.parents[1])}: {exc}".strip()) from exc
    finally:
        schema_notices, conn.notices = conn.notices, caller_notices
    # What the schema files RAISE NOTICE about (e.g. converting an old plain heart_rate table), without
    # PostgreSQL's own "already exists, skipping" notices of every idempotent re-apply; INFO (e.g. "timescaledb
    # loaded") stays at info.
    for notice in schema_notices:
        if not notice.rstrip().endswith(", skipping"):
            log.log(logging.INFO if notice.startswith("INFO") else logging.WARNING, "schema: %s", notice.strip())
    return backend
