"""The warehouse on the real embedded PostgreSQL: schema, atomic day replace, clear errors."""

import datetime as dt
import threading

import pandas as pd
import psycopg2
import pytest

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.warehouse.connection import WarehouseUnavailableError
from fitbit_assets.warehouse.days import (
    count_heart_rate_day,
    create_heart_rate_partitions,
    replace_heart_rate_day,
    upsert_participant,
)
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.schema import SchemaError, apply_schema
from fitbit_assets.warehouse.sql_files import SQL_DIR, sql_query

DAY = LocalDay(dt.date(2025, 6, 10), "Europe/Berlin")


def day_frame(participant_id, bpm_values, day=DAY, step_s=5):
    ts = day.start_utc + pd.to_timedelta([i * step_s for i in range(len(bpm_values))], unit="s")
    return pd.DataFrame({"participant_id": participant_id, "ts": ts, "bpm": pd.array(bpm_values, dtype="int16")})


def partitions(query) -> dict[str, tuple[str, str]]:
    """heart_rate's partitions and their UTC bounds as ISO text ('-infinity': the legacy partition's MINVALUE)."""
    rows = query("SET timezone = 'UTC'; SELECT partition_name, lower(ts_range)::text, upper(ts_range)::text "
                 "FROM heart_rate_partitions()")
    return {name: (lower, upper) for name, lower, upper in rows}


def rows_per_partition(query) -> dict[str, int]:
    return dict(query("SELECT tableoid::regclass::text, count(*) FROM heart_rate GROUP BY 1"))


def test_schema_applies_idempotently_on_plain_postgres(warehouse, warehouse_dsn, query):
    conn = psycopg2.connect(warehouse_dsn)
    try:
        assert apply_schema(conn) == "postgres"
        assert apply_schema(conn) == "postgres"
        assert partitions(query) == {}  # months are created by loads, not by the schema
        replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 10))
        assert apply_schema(conn) == "postgres"
    finally:
        conn.close()
    [(kind, key)] = query("SELECT relkind::text, pg_get_partkeydef(oid) FROM pg_class WHERE oid = 'heart_rate'::regclass")
    assert (kind, key) == ("p", "RANGE (ts)")
    indexes = {row[0] for row in query("SELECT indexname FROM pg_indexes WHERE tablename = 'heart_rate'")}
    assert indexes == {"heart_rate_pkey"}  # no BRIN: it made cohort-wide range queries slower (benchmarks)
    assert partitions(query) == {"heart_rate_2025_06": ("2025-06-01 00:00:00+00", "2025-07-01 00:00:00+00")}
    month_indexes = {row[0] for row in query("SELECT indexname FROM pg_indexes WHERE tablename = 'heart_rate_2025_06'")}
    assert month_indexes == {"heart_rate_2025_06_pkey"}
    assert query("SELECT count(*) FROM pg_partitioned_table WHERE partdefid <> 0") == [(0,)]  # no DEFAULT partition


def test_a_process_that_finds_its_schema_applied_takes_no_lock_beside_a_reader(warehouse_dsn):
    """Each process's first connection applies the schema only if the database does not hold these files' schema
    yet: a re-apply's CREATE OR REPLACE VIEW waits for (and deadlocked with) a run reading that view."""
    setup, reader, starting = (psycopg2.connect(warehouse_dsn) for _ in range(3))
    try:
        assert apply_schema(setup) == "postgres"
        with reader.cursor() as cur:  # another run's open read of the view
            cur.execute("SELECT count(*) FROM participant_day_status")
        with starting.cursor() as cur:
            cur.execute("SET lock_timeout = '2s'")
        starting.commit()
        assert apply_schema(starting, only_if_changed=True) == "postgres"  # nothing to wait for
        with pytest.raises(SchemaError, match="lock timeout"):
            apply_schema(starting)  # a full re-apply would have waited for the reader
        starting.rollback()
        reader.rollback()
        assert apply_schema(starting) == "postgres"  # and applies once the view is free
    finally:
        for conn in (setup, reader, starting):
            conn.close()


def test_a_load_into_a_new_month_creates_its_partition(warehouse, query):
    september = LocalDay(dt.date(2025, 9, 3), DAY.timezone)
    with warehouse.connection() as conn:
        replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 30))
        assert set(partitions(query)) == {"heart_rate_2025_06"}
        replace_heart_rate_day(conn, "p1", september, day_frame("p1", [70] * 20, september))
        replace_heart_rate_day(conn, "p2", september, day_frame("p2", [80] * 5, september))
        # The month exists now: the next load creates nothing.
        assert create_heart_rate_partitions(conn, september.start_utc, september.end_utc) == []
    assert partitions(query) == {  # only the months loaded, none in between
        "heart_rate_2025_06": ("2025-06-01 00:00:00+00", "2025-07-01 00:00:00+00"),
        "heart_rate_2025_09": ("2025-09-01 00:00:00+00", "2025-10-01 00:00:00+00"),
    }
    assert rows_per_partition(query) == {"heart_rate_2025_06": 30, "heart_rate_2025_09": 25}


def test_a_day_across_a_utc_month_boundary_is_replaced_atomically_in_both_partitions(warehouse, query):
    # Los Angeles local 2025-01-31 is 2025-01-31 08:00 UTC .. 2025-02-01 08:00 UTC: 16 h in January, 8 h in February.
    day = LocalDay(dt.date(2025, 1, 31), "America/Los_Angeles")
    next_day = LocalDay(dt.date(2025, 2, 1), "America/Los_Angeles")
    with warehouse.connection() as conn:
        assert replace_heart_rate_day(conn, "p1", day, day_frame("p1", [60] * 1440, day, step_s=60)) == (0, 1440)
        replace_heart_rate_day(conn, "p1", next_day, day_frame("p1", [65] * 10, next_day, step_s=60))
        assert set(partitions(query)) == {"heart_rate_2025_01", "heart_rate_2025_02"}
        assert rows_per_partition(query) == {"heart_rate_2025_01": 960, "heart_rate_2025_02": 480 + 10}
        # The last sample (February) violates the CHECK: the whole day rolls back, January's half included.
        bad = day_frame("p1", [61] * 1439 + [300], day, step_s=60)
        with pytest.raises(psycopg2.errors.CheckViolation):
            replace_heart_rate_day(conn, "p1", day, bad)
        assert rows_per_partition(query) == {"heart_rate_2025_01": 960, "heart_rate_2025_02": 490}
        assert query("SELECT DISTINCT bpm FROM heart_rate WHERE ts < %s", (next_day.start_utc,)) == [(60,)]
        # A shorter reload replaces the day in both months and leaves the next local day alone.
        assert replace_heart_rate_day(conn, "p1", day, day_frame("p1", [62] * 720, day, step_s=120)) == (1440, 720)
    assert rows_per_partition(query) == {"heart_rate_2025_01": 480, "heart_rate_2025_02": 240 + 10}
    assert query("SELECT bpm, count(*) FROM heart_rate GROUP BY 1 ORDER BY 1") == [(62, 720), (65, 10)]


def test_concurrent_loads_into_a_new_month_create_it_once(warehouse, warehouse_dsn, query):
    with warehouse.connection():
        pass  # schema applied once, before the loaders race
    loaders = 4
    start = threading.Barrier(loaders)
    errors = []

    def load(participant_id: str) -> None:
        conn = psycopg2.connect(warehouse_dsn)
        try:
            start.wait()
            replace_heart_rate_day(conn, participant_id, DAY, day_frame(participant_id, [60] * 100))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=load, args=(f"p{i}",)) for i in range(loaders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(partitions(query)) == {"heart_rate_2025_06"}
    assert rows_per_partition(query) == {"heart_rate_2025_06": 400}


def scanned_heart_rate_partitions(conn, sql: str, params) -> set[str]:
    """Partitions of heart_rate the executor actually scans (run-time pruned ones are absent or never executed)."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cur.fetchone()[0][0]["Plan"]
    conn.rollback()
    scanned, nodes = set(), [plan]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        name = node.get("Relation Name", "")
        if name.startswith("heart_rate_20") and node.get("Actual Loops", 0) > 0:
            scanned.add(name)
    return scanned


def test_reads_of_one_participant_day_touch_only_its_months(warehouse):
    who = Participant("p1", 1, "America/Los_Angeles", dt.date(2025, 1, 1), "landing")
    january, across, june = (LocalDay(dt.date(2025, m, d), who.timezone) for m, d in ((1, 20), (1, 31), (6, 10)))
    with warehouse.connection() as conn:
        upsert_participant(conn, who)
        for day in (january, across, june):
            replace_heart_rate_day(conn, "p1", day, day_frame("p1", [60] * 100, day, step_s=600))
        window = {"participant_id": "p1", "start_utc": june.start_utc, "end_utc": june.end_utc, "width": "1 minute"}
        assert scanned_heart_rate_partitions(conn, sql_query("heart_rate_rollup_from_raw"), window) == {"heart_rate_2025_06"}
        window.update(start_utc=across.start_utc, end_utc=across.end_utc)
        assert scanned_heart_rate_partitions(conn, sql_query("heart_rate_rollup_from_raw"), window) == {
            "heart_rate_2025_01", "heart_rate_2025_02"}
        # The status view joins heart_rate per day (LATERAL): pruned at run time, per participant-day.
        status = "SELECT status, wear_minutes FROM participant_day_status WHERE participant_id = %s AND local_date = %s"
        assert scanned_heart_rate_partitions(conn, status, ("p1", june.local_date)) == {"heart_rate_2025_06"}
        with conn.cursor() as cur:
            cur.execute(status, ("p1", june.local_date))
            assert cur.fetchone() == ("not_syncing", 100)


# A database created before partitioning: heart_rate a plain table with the PK and a BRIN on ts.
LEGACY_HEART_RATE = """
CREATE TABLE heart_rate (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,
    bpm            smallint    NOT NULL CHECK (bpm BETWEEN 25 AND 250),
    PRIMARY KEY (participant_id, ts)
);
CREATE INDEX heart_rate_ts_brin ON heart_rate USING brin (ts);
"""


def create_legacy_database(conn, samples: list[tuple[str, dt.datetime, int]]) -> None:
    """The old layout with the common files applied on top (so participant_day_status reads the plain table)."""
    with conn.cursor() as cur:
        cur.execute(LEGACY_HEART_RATE)
        for path in sorted((SQL_DIR / "common").glob("*.sql")):
            cur.execute(path.read_text())
        for row in samples:
            cur.execute("INSERT INTO heart_rate (participant_id, ts, bpm) VALUES (%s, %s, %s)", row)
    conn.commit()


def test_an_old_plain_heart_rate_table_is_converted_in_place(warehouse_dsn, query, caplog):
    who = Participant("p1", 1, "Europe/Berlin", dt.date(2025, 5, 1), "landing")
    may, july, july_31, august = (
        LocalDay(dt.date(2025, m, d), who.timezone) for m, d in ((5, 20), (7, 10), (7, 31), (8, 5)))
    old_rows = [("p1", (day.start_utc + pd.Timedelta(minutes=i)).to_pydatetime(), 70) for day in (may, july) for i in range(30)]
    # A session west of UTC: there the UTC start of July is June 30, and June 30 + 1 month is July 30, not August 1.
    conn = psycopg2.connect(warehouse_dsn, options="-c timezone=America/Los_Angeles")
    try:
        create_legacy_database(conn, old_rows)
        with caplog.at_level("WARNING", logger="fitbit_assets.warehouse.schema"):
            assert apply_schema(conn) == "postgres"
        # (Where `make timescaledb` installed the extension into this server's wheel, apply_schema also warns that
        # the server does not preload it.)
        assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("schema:")] == [
            "schema: NOTICE:  heart_rate: converting the plain table into monthly partitions "
            "(old rows kept in heart_rate_legacy)"]
        # Every old row stays where it was: the old table is now the partition heart_rate_legacy, to the end of July.
        assert partitions(query) == {"heart_rate_legacy": ("-infinity", "2025-08-01 00:00:00+00")}
        assert rows_per_partition(query) == {"heart_rate_legacy": 60}
        indexes = query("SELECT tablename, indexname FROM pg_indexes "
                        "WHERE tablename IN ('heart_rate', 'heart_rate_legacy') ORDER BY 1")
        assert indexes == [("heart_rate", "heart_rate_pkey"), ("heart_rate_legacy", "heart_rate_legacy_pkey")]
        assert query("SELECT count(*) FROM information_schema.columns "
                     "WHERE table_name = 'heart_rate' AND column_name = 'confidence'") == [(1,)]
        assert apply_schema(conn) == "postgres"  # converted once; re-applying changes nothing
        assert set(partitions(query)) == {"heart_rate_legacy"}

        upsert_participant(conn, who)
        assert replace_heart_rate_day(conn, "p1", july, day_frame("p1", [61] * 10, july)) == (30, 10)
        replace_heart_rate_day(conn, "p1", july_31, day_frame("p1", [63] * 5, july_31, step_s=60))
        assert set(partitions(query)) == {"heart_rate_legacy"}  # July is in the legacy range: no new partition
        replace_heart_rate_day(conn, "p1", august, day_frame("p1", [62] * 20, august, step_s=60))
    finally:
        conn.close()
    assert partitions(query) == {
        "heart_rate_legacy": ("-infinity", "2025-08-01 00:00:00+00"),
        "heart_rate_2025_08": ("2025-08-01 00:00:00+00", "2025-09-01 00:00:00+00"),
    }
    assert rows_per_partition(query) == {"heart_rate_legacy": 30 + 10 + 5, "heart_rate_2025_08": 20}
    # The view re-created by the schema reads the partitioned table, old months and new ones.
    status = "SELECT local_date, wear_minutes FROM participant_day_status WHERE local_date IN %s ORDER BY 1"
    assert query(status, ((may.local_date, july.local_date, july_31.local_date, august.local_date),)) == [
        (may.local_date, 30), (july.local_date, 1), (july_31.local_date, 5), (august.local_date, 20)]


def test_an_old_empty_heart_rate_table_leaves_every_month_to_new_partitions(warehouse_dsn, query):
    conn = psycopg2.connect(warehouse_dsn)
    try:
        create_legacy_database(conn, [])
        apply_schema(conn)
        replace_heart_rate_day(conn, "p1", DAY, day_frame("p1", [60] * 10))
    finally:
        conn.close()
    assert partitions(query) == {
        "heart_rate_legacy": (None, None),  # bounds (MINVALUE) TO ('-infinity'): an empty range, holds nothing
        "heart_rate_2025_06": ("2025-06-01 00:00:00+00", "2025-07-01 00:00:00+00"),
    }
    assert rows_per_partition(query) == {"heart_rate_2025_06": 10}


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
    down = WarehouseResource(dsn="postgresql://fitbit:s3cret@127.0.0.1:1/fitbit?connect_timeout=2")
    with pytest.raises(WarehouseUnavailableError, match=r"cannot connect to the warehouse at user=fitbit password=\*\*\* .*host=127.0.0.1") as exc:
        with down.connection():
            pass
    assert "s3cret" not in str(exc.value)
