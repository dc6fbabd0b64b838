"""The embedded PostgreSQL of a test session: its address and new databases on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg2


@dataclass(frozen=True)
class EmbeddedPostgres:
    host: str  # unix-socket directory
    port: int
    user: str
    password: str

    def dsn(self, database: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"


def create_database(embedded_pg: EmbeddedPostgres, prefix: str) -> str:
    """A new empty database on the embedded server; its name starts with ``prefix``."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(embedded_pg.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return name


def drop_database(embedded_pg: EmbeddedPostgres, name: str) -> None:
    conn = psycopg2.connect(embedded_pg.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
