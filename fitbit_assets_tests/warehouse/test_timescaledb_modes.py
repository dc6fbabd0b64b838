"""``timescaledb: auto | require | off`` on a server that preloads TimescaleDB and on one that has the extension's
files but does not preload it (a managed PostgreSQL in that state): TimescaleDB, or the plain layout with one
warning, or a clear error; never a statement that ends the session."""

from __future__ import annotations

import datetime as dt
import logging

import psycopg2
import pytest

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.days import count_heart_rate_day, replace_heart_rate_day
from fitbit_assets.warehouse.embedded_server import stop_server
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.schema import (
    SchemaError,
    TimescaleStatus,
    apply_schema,
    choose_backend,
    timescaledb_status,
)
from fitbit_assets_tests.support.adherence_fixtures import day_frame, worn_except

DAY = LocalDay(dt.date(2025, 6, 10), "Europe/Berlin")
SCHEMA_LOGGER = "fitbit_assets.warehouse.schema"


def schema_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SCHEMA_LOGGER and r.levelno >= logging.WARNING]


def apply_schema_backend(dsn: str, mode: str) -> str:
    conn = psycopg2.connect(dsn)
    try:
        return apply_schema(conn, mode)
    finally:
        conn.close()


def test_auto_uses_timescaledb_where_the_server_preloads_it(clean_timescale_dsn, caplog):
    with caplog.at_level("WARNING", logger=SCHEMA_LOGGER):
        assert WarehouseResource(dsn=clean_timescale_dsn).backend == "timescaledb"
    assert schema_warnings(caplog) == []
    conn = psycopg2.connect(clean_timescale_dsn)
    try:
        assert timescaledb_status(conn) == TimescaleStatus(available=True, preloaded=True, created=True)
    finally:
        conn.close()


def test_auto_without_preload_takes_the_plain_layout_with_one_warning(unpreloaded_timescale_dsn, caplog):
    warehouse = WarehouseResource(dsn=unpreloaded_timescale_dsn)
    with caplog.at_level("WARNING", logger=SCHEMA_LOGGER):
        assert warehouse.backend == "postgres"
        with warehouse.connection() as conn:  # the same process: the schema is not applied (nor warned about) again
            frame = day_frame("p1", DAY, worn_except())
            assert replace_heart_rate_day(conn, "p1", DAY, frame) == (0, len(frame))
            assert count_heart_rate_day(conn, "p1", DAY) == len(frame)
            assert timescaledb_status(conn) == TimescaleStatus(available=True, preloaded=False, created=False)
    [warning] = schema_warnings(caplog)
    assert "does not preload it: using the plain PostgreSQL layout" in warning
    assert "add 'timescaledb' to shared_preload_libraries" in warning


def test_the_embedded_server_is_plain_postgres_without_a_warning(tmp_path, caplog):
    """The development server never preloads TimescaleDB, even with the extension installed into its wheel."""
    pgdata = tmp_path / "pgdata"
    try:
        with caplog.at_level("WARNING", logger=SCHEMA_LOGGER):
            assert WarehouseResource(embedded_dir=str(pgdata)).backend == "postgres"
        assert schema_warnings(caplog) == []
    finally:
        stop_server(pgdata)


def test_require_without_preload_is_a_clear_error_and_the_connection_lives_on(unpreloaded_timescale_dsn):
    conn = psycopg2.connect(unpreloaded_timescale_dsn)
    try:
        with pytest.raises(SchemaError, match="does not preload the timescaledb library: add 'timescaledb' to "
                                              "shared_preload_libraries"):
            apply_schema(conn, "require")
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()
    assert apply_schema_backend(unpreloaded_timescale_dsn, "off") == "postgres"


# The decision on its own, for the states a test server cannot take (no extension at all: the embedded wheel has it
# once `make timescaledb` ran; a database that has the extension on a server that stopped preloading it).
NONE = TimescaleStatus(available=False, preloaded=False, created=False)
FILES_ONLY = TimescaleStatus(available=True, preloaded=False, created=False)
READY = TimescaleStatus(available=True, preloaded=True, created=False)
CREATED_NOT_LOADED = TimescaleStatus(available=True, preloaded=False, created=True)


@pytest.mark.parametrize(
    ("status", "mode", "expected"),
    [
        (NONE, "auto", "postgres"),
        (NONE, "off", "postgres"),
        (NONE, "require", "the server has no timescaledb extension"),
        (FILES_ONLY, "auto", "postgres"),
        (FILES_ONLY, "off", "postgres"),
        (FILES_ONLY, "require", "does not preload the timescaledb library"),
        (READY, "auto", "timescaledb"),
        (READY, "require", "timescaledb"),
        (READY, "off", "postgres"),
        (CREATED_NOT_LOADED, "auto", "the database has the timescaledb extension but the server does not preload it"),
        (CREATED_NOT_LOADED, "off", "the database has the timescaledb extension but the server does not preload it"),
    ],
)
def test_the_backend_decision(status, mode, expected):
    if expected in ("postgres", "timescaledb"):
        assert choose_backend(status, mode) == expected
    else:
        with pytest.raises(SchemaError, match=expected):
            choose_backend(status, mode)
