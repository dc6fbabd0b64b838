"""Issue 4 conformance: the project's own sql/ schema in TimescaleDB mode, asserted from the catalog, and the
same fixture days through the production loader (COPY), refresh and adherence functions on a native TimescaleDB
(fitbit_assets/warehouse/native_timescaledb.py) and on plain PostgreSQL (the embedded server): equal numbers."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from contextlib import contextmanager

import psycopg2
import pytest

from fitbit_assets.domain.adherence import AdherenceParams
from fitbit_assets.domain.heart_rate import read_raw_heart_rate, to_utc_frame, to_warehouse_frame
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.synthetic import generate_heart_rate_day, heart_rate_csv_bytes
from fitbit_assets.warehouse.days import replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.rollups import (
    LEVELS,
    aggregate_mismatches,
    compute_daily_adherence,
    refresh_heart_rate_aggregates,
    utc_day_window,
)
from fitbit_assets.warehouse.schema import apply_schema
from fitbit_assets_tests.support.adherence_fixtures import day_frame, worn_except

NEW_YORK = Participant("conf-ny", 7, "America/New_York", dt.date(2025, 3, 1), "synthetic", "typical")
# A low-wear seed whose three days all synced (low-wear devices also have no-sync stretches, which upload nothing).
LOS_ANGELES = Participant("conf-la", 301, "America/Los_Angeles", dt.date(2025, 3, 1), "synthetic", "low_wear")
DAYS = [dt.date(2025, 3, 8), dt.date(2025, 3, 9), dt.date(2025, 3, 10)]  # 2025-03-09: 23-hour DST day
HAND_BUILT = {(NEW_YORK.participant_id, DAYS[2]): worn_except((600, 603), (720, 840))}  # 3-min + 2-h gaps
PARAMS = AdherenceParams()


@contextmanager
def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn, connect_timeout=30)
    try:
        conn.autocommit = autocommit
        yield conn
    finally:
        conn.close()


def fixture_days(tmp_path_factory) -> list[tuple[Participant, LocalDay, object]]:
    """Synthetic days through the production raw -> UTC path, plus one hand-built day with known gaps."""
    folder = tmp_path_factory.mktemp("conformance_raw")
    days = []
    for participant in (NEW_YORK, LOS_ANGELES):
        for date in DAYS:
            day = LocalDay(date, participant.timezone)
            worn = HAND_BUILT.get((participant.participant_id, date))
            if worn is not None:
                frame = day_frame(participant.participant_id, day, worn)
            else:
                path = folder / f"{participant.participant_id}-{date}.csv"
                path.write_bytes(heart_rate_csv_bytes(generate_heart_rate_day(participant, date)))
                frame = to_warehouse_frame(to_utc_frame(read_raw_heart_rate(path), participant.participant_id, day))
            days.append((participant, day, frame))
    return days


def load_and_roll_up(conn, days) -> None:
    """What the asset graph does, with the production functions: load, refresh, adherence."""
    for participant in {p.participant_id: p for p, _, _ in days}.values():
        upsert_participant(conn, participant)
    for participant, day, frame in days:
        replace_heart_rate_day(conn, participant.participant_id, day, frame)
    by_participant: dict[str, list[LocalDay]] = {}
    for participant, day, _ in days:
        by_participant.setdefault(participant.participant_id, []).append(day)
    for participant_id, local_days in by_participant.items():
        refresh_heart_rate_aggregates(conn, participant_id, utc_day_window(local_days))
    for participant, day, _ in days:
        compute_daily_adherence(conn, participant.participant_id, day, PARAMS)


def snapshot(conn) -> dict[str, list[tuple]]:
    queries = {
        level: f"SELECT participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm, mean_bpm FROM {level} ORDER BY 1, 2"
        for level, _ in LEVELS
    }
    queries["daily_adherence"] = (
        "SELECT participant_id, local_date, day_minutes, wear_minutes, adherence_pct, longest_gap_minutes, gap_count,"
        " valid_day, imputed_minutes, samples FROM daily_adherence ORDER BY 1, 2"
    )
    queries["heart_rate_1m_imputed"] = "SELECT participant_id, bucket, mean_bpm, imputed FROM heart_rate_1m_imputed ORDER BY 1, 2"
    queries["participant_adherence"] = "SELECT * FROM participant_adherence ORDER BY 1"
    out = {}
    with conn.cursor() as cur:
        for name, query in queries.items():
            cur.execute(query)
            out[name] = cur.fetchall()
    return out


def assert_rows_equal(name, left, right):
    assert len(left) == len(right), f"{name}: {len(left)} rows vs {len(right)}"
    for a, b in zip(left, right):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            if isinstance(x, float) or isinstance(y, float):
                assert math.isclose(float(x), float(y), rel_tol=0, abs_tol=1e-9), (name, a, b)
            else:
                assert x == y, (name, a, b)


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    return fixture_days(tmp_path_factory)


@pytest.fixture(scope="module")
def timescale(timescale_server, days):
    """A database on the TimescaleDB server with the project's schema and the fixture days loaded (module scope)."""
    name = f"conformance_{uuid.uuid4().hex[:10]}"
    dsn = timescale_server.create_database(name)
    with connect(dsn) as conn:
        assert apply_schema(conn, timescaledb="require") == "timescaledb"
        load_and_roll_up(conn, days)
    yield dsn
    timescale_server.drop_database(name)


@pytest.fixture(scope="module")
def postgres(embedded_pg, days):
    name = f"conformance_{uuid.uuid4().hex[:10]}"
    with connect(embedded_pg.dsn(), autocommit=True) as admin, admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    dsn = embedded_pg.dsn(name)
    with connect(dsn) as conn:
        assert apply_schema(conn) == "postgres"
        load_and_roll_up(conn, days)
    yield dsn
    with connect(embedded_pg.dsn(), autocommit=True) as admin, admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fetch(dsn, query, params=None):
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_schema_is_idempotent_in_timescaledb_mode(timescale):
    with connect(timescale) as conn:
        assert apply_schema(conn, timescaledb="require") == "timescaledb"
    [(major, minor)] = fetch(
        timescale,
        "SELECT split_part(extversion, '.', 1)::int, split_part(extversion, '.', 2)::int"
        " FROM pg_extension WHERE extname = 'timescaledb'",
    )
    assert (major, minor) >= (2, 9)  # hierarchical continuous aggregates


# Chunk interval per raw hypertable. heart_rate (~10 k rows per participant-day) uses 1-day chunks; the low-volume
# intraday metric tables (SpO2/HRV nightly, AZM minutes) may use up to 7 days (domain.md section 5: "1 day for the
# raw HR table ...; 7 days (or more) for minute/daily tables").
HEART_RATE_CHUNK = dt.timedelta(days=1)
MAX_OTHER_CHUNK = dt.timedelta(days=7)


def test_raw_hypertables_chunk_intervals(timescale):
    rows = fetch(
        timescale,
        "SELECT h.hypertable_name, d.column_name, d.time_interval FROM timescaledb_information.hypertables h"
        " JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)"
        " WHERE h.hypertable_schema = 'public' ORDER BY 1",
    )
    print("\nhypertables:", rows)
    assert ("heart_rate", "ts", HEART_RATE_CHUNK) in rows
    for name, column, interval in rows:  # every raw hypertable of the project: one time dimension on ts
        assert column == "ts" and HEART_RATE_CHUNK <= interval <= MAX_OTHER_CHUNK, (name, column, interval)
    assert len({name for name, _, _ in rows}) == len(rows)  # no extra (space) partitioning dimension


def test_every_raw_hypertable_is_compressed_by_participant_and_time_desc(timescale):
    hypertables = [
        name
        for (name,) in fetch(
            timescale,
            "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public'",
        )
    ]
    assert "heart_rate" in hypertables
    for name in hypertables:
        assert fetch(
            timescale,
            "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc"
            " FROM timescaledb_information.compression_settings WHERE hypertable_name = %s"
            " AND (segmentby_column_index IS NOT NULL OR orderby_column_index IS NOT NULL) ORDER BY attname",
            (name,),
        ) == [("participant_id", 1, None, None), ("ts", None, 1, False)], name
        assert fetch(
            timescale,
            "SELECT config->>'compress_after' FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_compression' AND hypertable_name = %s",
            (name,),
        ) == [("14 days",)], name


def test_continuous_aggregates_are_hierarchical_materialized_only_with_policies(timescale):
    caggs = {
        view: (parent, materialization, materialized_only)
        for view, parent, materialization, materialized_only in fetch(
            timescale,
            "SELECT view_name, hypertable_name, materialization_hypertable_name, materialized_only"
            " FROM timescaledb_information.continuous_aggregates",
        )
    }
    assert set(caggs) == {"heart_rate_1m", "heart_rate_1h", "heart_rate_1d"}
    assert caggs["heart_rate_1m"][0] == "heart_rate"
    assert caggs["heart_rate_1h"][0] == caggs["heart_rate_1m"][1]  # 1 h built on the 1-min cagg
    assert caggs["heart_rate_1d"][0] == caggs["heart_rate_1h"][1]  # 1 day built on the 1-h cagg
    assert all(materialized_only for _, _, materialized_only in caggs.values())  # real-time aggregation off
    policies = fetch(
        timescale,
        "SELECT hypertable_name, config->>'start_offset', config->>'end_offset', schedule_interval, job_id"
        " FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1",
    )
    assert [p[:4] for p in policies] == [
        ("heart_rate_1d", "30 days", "1 day", dt.timedelta(days=1)),
        ("heart_rate_1h", "30 days", "01:00:00", dt.timedelta(hours=1)),
        ("heart_rate_1m", "30 days", "00:01:00", dt.timedelta(hours=1)),
    ]
    # Same column names and types as the plain-PostgreSQL tables (the contract other code relies on).
    columns = fetch(
        timescale,
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_name IN ('heart_rate_1m', 'heart_rate_1h', 'heart_rate_1d') ORDER BY 1, ordinal_position",
    )
    expected = [
        ("participant_id", "text"),
        ("bucket", "timestamp with time zone"),
        ("samples", "bigint"),
        ("bpm_sum", "bigint"),
        ("min_bpm", "smallint"),
        ("max_bpm", "smallint"),
        ("mean_bpm", "double precision"),
    ]
    for level in ("heart_rate_1d", "heart_rate_1h", "heart_rate_1m"):
        assert [(c, t) for table, c, t in columns if table == level] == expected, level


def test_same_numbers_as_plain_postgres(timescale, postgres, days):
    with connect(postgres) as conn:
        plain = snapshot(conn)
    with connect(timescale) as conn:
        hyper = snapshot(conn)
        for participant_id in {p.participant_id for p, _, _ in days}:
            window = utc_day_window(day for p, day, _ in days if p.participant_id == participant_id)
            compared, mismatches = aggregate_mismatches(conn, participant_id, window)
            assert compared > 0 and mismatches == []
    assert len(hyper["heart_rate_1d"]) >= 6 and len(hyper["heart_rate_1m"]) > 1000
    for name in plain:
        assert_rows_equal(name, hyper[name], plain[name])
    adherence = {(row[0], row[1]): row for row in hyper["daily_adherence"]}
    hand_built = adherence[(NEW_YORK.participant_id, DAYS[2])]
    assert hand_built[2:] == (1440, 1440 - 123, pytest.approx(100 * 1317 / 1440), 120, 2, True, 3, 4 * 1317)
    assert adherence[(NEW_YORK.participant_id, DAYS[1])][2] == 1380  # DST day: 23 h


def test_refresh_policy_job_runs_in_the_foreground(timescale):
    [(job_id,)] = fetch(
        timescale,
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'"
        " AND hypertable_name = 'heart_rate_1m'",
    )
    before = fetch(timescale, "SELECT count(*), sum(samples) FROM heart_rate_1m")
    with connect(timescale, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CALL run_job(%s)", (job_id,))
    assert fetch(timescale, "SELECT count(*), sum(samples) FROM heart_rate_1m") == before


def test_compress_chunk_on_a_loaded_day(timescale, postgres, days, record_property):
    participant, day, frame = days[0]
    chunks = fetch(
        timescale,
        "SELECT show_chunks('heart_rate', newer_than => %s::timestamptz, older_than => %s::timestamptz)::text",
        (day.start_utc.floor("D"), day.start_utc.floor("D") + dt.timedelta(days=1)),
    )
    assert len(chunks) == 1
    [(chunk,)] = chunks
    rows_before = fetch(timescale, "SELECT count(*) FROM heart_rate")
    with connect(timescale, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT compress_chunk(%s::regclass)", (chunk,))
    [(status, before, after)] = fetch(
        timescale,
        "SELECT compression_status, before_compression_total_bytes, after_compression_total_bytes"
        " FROM chunk_compression_stats('heart_rate') WHERE chunk_schema || '.' || chunk_name = %s",
        (chunk,),
    )
    ratio = before / after
    record_property("compression_ratio", round(ratio, 2))
    print(f"\ncompress_chunk({chunk}): {before} -> {after} bytes, ratio {ratio:.1f}x")
    assert status == "Compressed" and ratio > 2, (before, after)
    assert fetch(timescale, "SELECT count(*) FROM heart_rate") == rows_before
    # Late data into the compressed chunk: the same replace + refresh path still agrees with plain PostgreSQL.
    changed = frame.assign(bpm=(frame["bpm"] + 1).astype("int16"))
    for dsn in (timescale, postgres):
        with connect(dsn) as conn:
            replace_heart_rate_day(conn, participant.participant_id, day, changed)
            refresh_heart_rate_aggregates(conn, participant.participant_id, utc_day_window([day]))
            compute_daily_adherence(conn, participant.participant_id, day, PARAMS)
    with connect(postgres) as conn:
        plain = snapshot(conn)
    with connect(timescale) as conn:
        hyper = snapshot(conn)
    for name in plain:
        assert_rows_equal(name, hyper[name], plain[name])
