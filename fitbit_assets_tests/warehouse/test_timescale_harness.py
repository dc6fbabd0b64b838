"""Smoke tests of the native TimescaleDB test server (fitbit_assets/warehouse/native_timescaledb.py): the features the
pipeline relies on work through psycopg2, asserted from the catalog, with many connections and the job scheduler."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras

DAY0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
PARTICIPANTS = 2
DAYS = 2
STEP_S = 10  # one sample every 10 s -> 8640 rows per participant-day
ROWS = PARTICIPANTS * DAYS * 86400 // STEP_S

SCHEMA_SQL = f"""
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE heart_rate (
    participant_id int4 NOT NULL,
    ts timestamptz NOT NULL,
    bpm int2 NOT NULL,
    confidence int2,
    PRIMARY KEY (participant_id, ts)
);
SELECT create_hypertable('heart_rate', by_range('ts', INTERVAL '1 day'));
-- deterministic data: bpm = 60 + minute-of-hour (60..119), participant 2 adds 10
INSERT INTO heart_rate
SELECT p, ts, (60 + extract(minute FROM ts) + 10 * (p - 1))::int2, 3
FROM generate_series(1, {PARTICIPANTS}) AS p,
     generate_series(TIMESTAMPTZ '{DAY0.isoformat()}',
                     TIMESTAMPTZ '{DAY0.isoformat()}' + INTERVAL '{DAYS} days'
                       - INTERVAL '{STEP_S} seconds',
                     INTERVAL '{STEP_S} seconds') AS ts;
"""


@contextmanager
def connect(dsn: str, autocommit: bool = True) -> Iterator[psycopg2.extensions.connection]:
    """A connection that is closed when the block ends."""
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        conn.autocommit = autocommit
        yield conn
    finally:
        conn.close()


def scalar(cur, sql: str, params=None):
    cur.execute(sql, params)
    return cur.fetchone()[0]


def test_hypertable_and_time_bucket(clean_timescale_dsn: str) -> None:
    with connect(clean_timescale_dsn) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)
        assert scalar(
            cur, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ) == "2.23.1"
        assert scalar(cur, "SHOW server_version").startswith("18.")  # the embedded wheel's server

        cur.execute(
            "SELECT column_name, dimension_type, time_interval"
            " FROM timescaledb_information.dimensions WHERE hypertable_name = 'heart_rate'"
        )
        assert cur.fetchall() == [("ts", "Time", timedelta(days=1))]
        assert scalar(cur, "SELECT count(*) FROM heart_rate") == ROWS
        assert scalar(cur, "SELECT count(*) FROM show_chunks('heart_rate')") == DAYS

        # idempotent upsert of a batch (execute_values = multi-row INSERT)
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO heart_rate VALUES %s ON CONFLICT (participant_id, ts)"
            " DO UPDATE SET bpm = EXCLUDED.bpm",
            [(1, DAY0 + timedelta(seconds=s), 200, 1) for s in (0, 5)],
        )
        assert scalar(cur, "SELECT count(*) FROM heart_rate") == ROWS + 1

        cur.execute(
            """
            SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket, count(*), min(bpm), max(bpm)
            FROM heart_rate
            WHERE participant_id = 2 AND ts < %s
            GROUP BY bucket ORDER BY bucket
            """,
            (DAY0 + timedelta(hours=2),),
        )
        assert cur.fetchall() == [
            (DAY0, 360, 70, 129),
            (DAY0 + timedelta(hours=1), 360, 70, 129),
        ]


def test_continuous_aggregates(clean_timescale_dsn: str) -> None:
    with connect(clean_timescale_dsn) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)
        cur.execute(
            """
            CREATE MATERIALIZED VIEW heart_rate_1m
            WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
            SELECT participant_id, time_bucket(INTERVAL '1 minute', ts) AS bucket,
                   count(*) AS n, sum(bpm) AS bpm_sum, min(bpm) AS bpm_min, max(bpm) AS bpm_max
            FROM heart_rate GROUP BY participant_id, bucket
            WITH NO DATA
            """
        )
        # refresh_continuous_aggregate cannot run in a transaction block -> autocommit
        cur.execute("CALL refresh_continuous_aggregate('heart_rate_1m', NULL, NULL)")
        assert scalar(cur, "SELECT count(*) FROM heart_rate_1m") == PARTICIPANTS * DAYS * 1440
        cur.execute(
            "SELECT n, bpm_sum, bpm_min, bpm_max FROM heart_rate_1m"
            " WHERE participant_id = 1 AND bucket = %s",
            (DAY0 + timedelta(minutes=7),),
        )
        assert cur.fetchone() == (6, 6 * 67, 67, 67)

        # hierarchical cagg (cagg on cagg), real-time (materialized_only = false)
        cur.execute(
            """
            CREATE MATERIALIZED VIEW heart_rate_1d
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT participant_id, time_bucket(INTERVAL '1 day', bucket) AS day,
                   sum(n) AS n, count(*) AS worn_minutes, min(bpm_min) AS bpm_min
            FROM heart_rate_1m GROUP BY participant_id, day
            WITH NO DATA
            """
        )
        cur.execute("CALL refresh_continuous_aggregate('heart_rate_1d', NULL, NULL)")
        cur.execute("SELECT participant_id, day, n, worn_minutes, bpm_min FROM heart_rate_1d"
                    " ORDER BY 1, 2")
        assert cur.fetchall() == [
            (p, DAY0 + timedelta(days=d), 8640, 1440, 60 + 10 * (p - 1))
            for p in range(1, PARTICIPANTS + 1) for d in range(DAYS)
        ]
        cur.execute(
            "SELECT view_name, materialized_only, hypertable_name IS NOT NULL"
            " FROM timescaledb_information.continuous_aggregates ORDER BY view_name"
        )
        assert cur.fetchall() == [("heart_rate_1d", False, True), ("heart_rate_1m", True, True)]

        # policies register; run_job runs one in the foreground (the scheduler's runs: test_timescale_production)
        job_id = scalar(
            cur,
            "SELECT add_continuous_aggregate_policy('heart_rate_1m',"
            " start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 minute',"
            " schedule_interval => INTERVAL '1 hour')",
        )
        cur.execute(
            "SELECT proc_name, schedule_interval, config->>'start_offset'"
            " FROM timescaledb_information.jobs WHERE job_id = %s",
            (job_id,),
        )
        assert cur.fetchone() == ("policy_refresh_continuous_aggregate", timedelta(hours=1),
                                  "30 days")
        cur.execute("CALL run_job(%s)", (job_id,))  # runs in the foreground


def test_compression(clean_timescale_dsn: str) -> None:
    with connect(clean_timescale_dsn) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)
        cur.execute(
            "ALTER TABLE heart_rate SET (timescaledb.compress,"
            " timescaledb.compress_segmentby = 'participant_id',"
            " timescaledb.compress_orderby = 'ts DESC')"
        )
        cur.execute(
            "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc"
            " FROM timescaledb_information.compression_settings"
            " WHERE hypertable_name = 'heart_rate' ORDER BY attname"
        )
        assert cur.fetchall() == [("participant_id", 1, None, None), ("ts", None, 1, False)]
        size_before = scalar(cur, "SELECT total_bytes FROM hypertable_detailed_size('heart_rate')")

        cur.execute("SELECT compress_chunk(c) FROM show_chunks('heart_rate') AS c")
        assert len(cur.fetchall()) == DAYS
        cur.execute(
            "SELECT total_chunks, number_compressed_chunks, before_compression_total_bytes,"
            " after_compression_total_bytes FROM hypertable_compression_stats('heart_rate')"
        )
        total, compressed, before, after = cur.fetchone()
        assert (total, compressed) == (DAYS, DAYS)
        assert before > 10 * after, (before, after)  # >90 % smaller
        cur.execute(
            "SELECT count(*) FROM chunk_compression_stats('heart_rate')"
            " WHERE compression_status = 'Compressed'"
        )
        assert cur.fetchone() == (DAYS,)
        assert scalar(cur, "SELECT total_bytes FROM hypertable_detailed_size('heart_rate')") \
            < size_before / 10

        # compressed data stays queryable and writable (late data / upsert)
        cur.execute("SELECT count(*), min(bpm), max(bpm) FROM heart_rate")
        assert cur.fetchone() == (ROWS, 60, 129)
        cur.execute(
            "INSERT INTO heart_rate VALUES (1, %s, 42, 1) ON CONFLICT (participant_id, ts)"
            " DO UPDATE SET bpm = EXCLUDED.bpm",
            (DAY0,),
        )
        assert scalar(cur, "SELECT bpm FROM heart_rate WHERE participant_id = 1 AND ts = %s",
                      (DAY0,)) == 42

        job_id = scalar(cur, "SELECT add_compression_policy('heart_rate', INTERVAL '14 days')")
        assert scalar(cur, "SELECT proc_name FROM timescaledb_information.jobs"
                           " WHERE job_id = %s", (job_id,)) == "policy_compression"


def test_many_connections_at_once_and_the_job_scheduler_runs(clean_timescale_dsn: str) -> None:
    with ExitStack() as stack:
        conns = [stack.enter_context(connect(clean_timescale_dsn, autocommit=False)) for _ in range(8)]
        for n, conn in enumerate(conns):
            with conn.cursor() as cur:
                cur.execute("SELECT %s, pg_backend_pid()", (n,))
        assert len({conn.get_backend_pid() for conn in conns}) == 8
        with conns[0].cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conns[0].commit()
        with conns[1].cursor() as cur:
            assert scalar(cur, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                               " AND state = 'idle in transaction'") >= 6
    # TimescaleDB's launcher starts a scheduler for every database that has the extension.
    with connect(clean_timescale_dsn) as conn, conn.cursor() as cur:
        deadline = time.monotonic() + 60
        while not scalar(cur, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                              " AND backend_type = 'TimescaleDB Background Worker Scheduler'"):
            assert time.monotonic() < deadline, "no TimescaleDB scheduler for the test database within 60 s"
            time.sleep(0.2)


def test_copy_and_large_statements(clean_timescale_dsn: str) -> None:
    with connect(clean_timescale_dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        cur.execute("CREATE TABLE samples (participant_id int4, ts timestamptz NOT NULL, bpm int2)")
        cur.execute("SELECT create_hypertable('samples', by_range('ts', INTERVAL '1 hour'))")
        data = "".join(
            f"1\t{(DAY0 + timedelta(seconds=s)).isoformat()}\t{60 + s % 50}\n"
            for s in range(50_000)
        )
        cur.copy_expert("COPY samples FROM STDIN", io.StringIO(data))
        assert scalar(cur, "SELECT count(*) FROM samples") == 50_000
        assert scalar(cur, "SELECT count(*) FROM show_chunks('samples')") == 14  # 50,000 s = 13.9 h
        # one statement of several hundred KB (split over many TCP packets)
        values = ",".join(f"(2, '{DAY0.isoformat()}', {i % 100})" for i in range(20_000))
        cur.execute(f"INSERT INTO samples VALUES {values}")
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT participant_id, count(*) FROM samples"
                        " GROUP BY 1 ORDER BY 1) TO STDOUT WITH (FORMAT csv)", out)
        assert out.getvalue() == "1,50000\n2,20000\n"
