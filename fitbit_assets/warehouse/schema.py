"""Schema apply: the ``sql/`` files on TimescaleDB when the server has the extension and preloads its library, plain
PostgreSQL otherwise."""

from __future__ import annotations

import collections
import hashlib
import logging
from dataclasses import dataclass
from typing import Literal

import psycopg2

from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import schema_files, sql_query

SCHEMA_LOCK_ID = 7_303_001  # pg_advisory_xact_lock key: one schema writer at a time across processes

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The schema cannot be applied: a ``sql/`` file failed, or the server's TimescaleDB cannot serve the mode asked."""


ENABLE_HINT = (
    "add 'timescaledb' to shared_preload_libraries in the server's postgresql.conf (ALTER SYSTEM SET "
    "shared_preload_libraries = 'timescaledb' or your provider's parameter group) and restart it"
)


@dataclass(frozen=True)
class TimescaleStatus:
    available: bool  # the server has the extension's files (pg_available_extensions)
    preloaded: bool  # the server loaded its library at start (shared_preload_libraries)
    created: bool  # this database has the extension (CREATE EXTENSION ran here)


def timescaledb_status(conn) -> TimescaleStatus:
    """What the server offers, read without loading the library: TimescaleDB ends the session (FATAL "must be
    preloaded") when it is loaded but not preloaded. Its loader defines ``timescaledb.disable_load`` only when
    preloaded; pg_settings shows that to every role, unlike shared_preload_libraries (pg_read_all_settings only)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),"
            " EXISTS (SELECT 1 FROM pg_settings WHERE name = 'timescaledb.disable_load'),"
            " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"
        )
        available, preloaded, created = cur.fetchone()
    return TimescaleStatus(available, preloaded, created)


def choose_backend(status: TimescaleStatus, timescaledb: Literal["auto", "require", "off"]) -> str:
    """The layout to apply, or a SchemaError naming the cause (never a statement that would end the session)."""
    if status.created and not status.preloaded:
        raise SchemaError(f"the database has the timescaledb extension but the server does not preload it: {ENABLE_HINT}")
    if timescaledb == "require" and not status.available:
        raise SchemaError("timescaledb='require' but the server has no timescaledb extension")
    if timescaledb == "require" and not status.preloaded:
        raise SchemaError(f"timescaledb='require' but the server does not preload the timescaledb library: {ENABLE_HINT}")
    if timescaledb == "off" or not status.available:
        return "postgres"
    if not status.preloaded:
        log.warning(
            "the server has the timescaledb extension but does not preload it: using the plain PostgreSQL layout. "
            "To use TimescaleDB, %s.", ENABLE_HINT
        )
        return "postgres"
    return "timescaledb"


def schema_digest(backend: str) -> str:
    """sha256 of the schema files of ``backend``, names and contents, in apply order."""
    digest = hashlib.sha256()
    for path in schema_files(backend):
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def applied_digest(conn, backend: str) -> str | None:
    """The digest recorded by the last apply for ``backend``; a read that takes no lock beyond the row's table."""
    with transaction(conn) as cur:
        cur.execute("SELECT to_regclass('schema_applied') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute(sql_query("schema_applied_digest"), {"backend": backend})
        row = cur.fetchone()
    return row[0] if row else None


def apply_schema(conn, timescaledb: Literal["auto", "require", "off"] = "auto", only_if_changed: bool = False) -> str:
    """Apply ``sql/`` idempotently in one transaction; returns the backend used. With ``only_if_changed``, nothing is
    applied when the database already holds these files' schema (what every process does on its first connection:
    a run starting beside others must not take DDL locks on objects they read)."""
    backend = choose_backend(timescaledb_status(conn), timescaledb)
    digest = schema_digest(backend)
    if only_if_changed and applied_digest(conn, backend) == digest:
        return backend
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
            cur.execute(sql_query("schema_applied_record"), {"backend": backend, "digest": digest})
    finally:
        schema_notices, conn.notices = conn.notices, caller_notices
    # What the schema files RAISE NOTICE about (e.g. converting an old plain heart_rate table), without
    # PostgreSQL's own "already exists, skipping" notices of every idempotent re-apply; INFO (e.g. "timescaledb
    # loaded") stays at info.
    for notice in schema_notices:
        if not notice.rstrip().endswith(", skipping"):
            log.log(logging.INFO if notice.startswith("INFO") else logging.WARNING, "schema: %s", notice.strip())
    return backend
