"""The warehouse on the real embedded PostgreSQL: schema, atomic day replace, clear errors."""

import datetime as dt

import pandas as pd
import psycopg2
import pytest

from fitbit_assets.local_days import LocalDay
from fitbit_assets.warehouse import (
    WarehouseResource,
    WarehouseUnavailableError,
    apply_schema,
    count_heart_rate_day,
    replace_heart_rate_day,
)

DAY = LocalDay(dt.date(2025, 6, 10), "Europe/Berlin")


def day_frame(participant_id, bpm_values, day=DAY, step_s=5):
    ts = day.start_utc + pd.to_timedelta([i * step_s for i in range(len(bpm_values))], unit="s")
    return pd.DataFrame({"participant_id": participant_id, "ts": ts, "bpm": pd.array(bpm_values, dtype="int16")})


def test_schema_applies_idempotently_on_plain_postgres(warehouse_dsn, query):
    conn = psycopg2.connect(warehouse_dsn)
    try:
        assert apply_schema(conn) == "postgres"
        assert apply_schema(conn) == "postgres"
    finally:
        conn.close()
    indexes = {row[0] for row in query("SELECT indexname FROM pg_indexes WHERE tablename = 'heart_rate'")}
    assert indexes == {"heart_rate_pkey", "heart_rate_ts_brin"}


def test_replace_day_leaves_exactly_the_new_rows_and_other_days_alone(warehouse):
    next_day = LocalDay(dt.date(2025, 6, 11), DAY.timezone)
    with warehouse.connection() as conn:
        assert replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 100)) == (0, 100)
        replace_heart_rate_day(conn, "p1", next_day, day_frame("p1", [70] * 10, next_day))
        replace_heart_rate_day(conn, "p2", DAY, day_frame("p2", [80] * 7))
        assert replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [61] * 40)) == (100, 40)
        assert count_heart_rate_day(conn, "p1", DAY) == 40
        assert count_heart_rate_day(conn, "p1", next_day) == 10
        assert count_heart_rate_day(conn, "p2", DAY) == 7


def test_failed_copy_rolls_back_and_keeps_the_previous_day(warehouse, warehouse_dsn):
    with warehouse.connection() as conn:
        replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 50))
        bad = day_frame("p1", [60] * 20 + [300])  # violates the table's CHECK: the COPY fails midway
        with pytest.raises(psycopg2.errors.CheckViolation):
            replace_heart_rate_day(conn, "p1", DAY, bad)
        assert count_heart_rate_day(conn, "p1", DAY) == 50


def test_readers_never_see_a_half_replaced_day(warehouse, warehouse_dsn):
    with warehouse.connection() as conn:
        replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 50))
    reader = psycopg2.connect(warehouse_dsn)
    reader.autocommit = True
    writer = psycopg2.connect(warehouse_dsn)
    try:
        with writer.cursor() as cur:  # the replace, paused before its commit
            cur.execute("DELETE FROM heart_rate WHERE participant_id = 'p1'")
            cur.execute("INSERT INTO heart_rate VALUES ('p1', %s, 90)", (DAY.start_utc,))
        with reader.cursor() as cur:
            cur.execute("SELECT count(*), max(bpm) FROM heart_rate WHERE participant_id = 'p1'")
            assert cur.fetchone() == (50, 60)
        writer.commit()
        with reader.cursor() as cur:
            cur.execute("SELECT count(*), max(bpm) FROM heart_rate WHERE participant_id = 'p1'")
            assert cur.fetchone() == (1, 90)
    finally:
        reader.close()
        writer.close()


def test_database_down_is_a_clear_error_without_the_password(tmp_path):
    down = WarehouseResource(dsn=f"postgresql://fitbit:s3cret@127.0.0.1:1/fitbit?connect_timeout=2")
    with pytest.raises(WarehouseUnavailableError, match=r"cannot connect to the warehouse at postgresql://fitbit:\*\*\*@") as exc:
        with down.connection():
            pass
    assert "s3cret" not in str(exc.value)


def test_timescaledb_required_but_missing_is_refused(warehouse_dsn):
    with pytest.raises(Exception, match="no timescaledb extension"):
        with WarehouseResource(dsn=warehouse_dsn, timescaledb="require").connection():
            pass
