"""The production path on a native TimescaleDB (issue 20): the asset graph's loaders (COPY + atomic day replace) into
every hypertable with the same results as plain PostgreSQL, a late day replaced inside a compressed chunk, the
compression and continuous-aggregate policies run by TimescaleDB's own job scheduler beside the pipeline's own
refresh of the same aggregates, and two loaders at once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg2
import pytest

from fitbit_assets.defs.adherence.assets import AdherenceResource
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.domain.adherence import AdherenceParams
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES, FAMILIES_BY_NAME
from fitbit_assets.domain.roster import Participant
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.warehouse.days import count_heart_rate_day, replace_heart_rate_day, replace_rows, upsert_participant
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.rollups import (
    aggregate_mismatches,
    compute_daily_adherence,
    refresh_heart_rate_aggregates,
    utc_day_window,
)
from fitbit_assets.warehouse.schema import apply_schema
from fitbit_assets_tests.support.adherence_fixtures import (
    FULL_GRAPH,
    all_worn,
    day_frame,
    drop_day,
    worn_except,
    worn_only,
)
from fitbit_assets_tests.support.graphs import METRIC_GRAPH
from fitbit_assets_tests.support.runs import day_evaluations, materialize_graph
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC

DAY = dt.date(2025, 6, 10)
HYPERTABLES = ["heart_rate", "spo2", "hrv", "active_zone_minutes", "sleep_minutes"]
JOB_TIMEOUT_S = 180  # a job scheduler on a loaded 2-core machine


def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn, connect_timeout=30)
    conn.autocommit = autocommit
    return conn


@pytest.fixture
def timescale_warehouse(clean_timescale_dsn) -> WarehouseResource:
    return WarehouseResource(dsn=clean_timescale_dsn, timescaledb="require")


def table_rows(dsn: str) -> dict[str, list[tuple]]:
    """Every row the pipeline writes for a participant, per table, in a stable order (load ids and times aside)."""
    tables = {
        "heart_rate": "SELECT participant_id, ts, bpm FROM heart_rate ORDER BY 1, 2",
        **{f.table: f"SELECT * FROM {f.table} ORDER BY 1, 2" for f in FAMILIES},
        "daily_adherence": "SELECT participant_id, local_date, day_minutes, wear_minutes, adherence_pct, "
                           "longest_gap_minutes, gap_count, valid_day, imputed_minutes, samples FROM daily_adherence "
                           "ORDER BY 1, 2",
        **{level: f"SELECT participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm FROM {level} ORDER BY 1, 2"
           for level in ("heart_rate_1m", "heart_rate_1h", "heart_rate_1d")},
    }
    return {name: fetch_all(dsn, query) for name, query in tables.items()}


@pytest.mark.integration
def test_the_asset_graph_loads_every_hypertable_as_on_plain_postgres(
    instance, study_files, warehouse, timescale_warehouse
):
    first, last = DAY, DAY + dt.timedelta(days=1)
    graph = [*FULL_GRAPH, *METRIC_GRAPH]
    tags = range_tags(SYNTHETIC.participant_id, first, last)
    verdicts = []
    for resource in (warehouse, timescale_warehouse):
        result = materialize_graph(graph, instance, study_files, resource, tags=tags, adherence=AdherenceResource())
        assert result.success
        verdicts.append({(e.check_name, e.partition): e.passed for e in day_evaluations(result)})
    # The same check verdicts per participant-day (a synthetic day may be a non-valid wear day: on both).
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == 2 * (4 + 2 * len(FAMILIES))
    assert timescale_warehouse.backend == "timescaledb" and warehouse.backend == "postgres"
    plain, hyper = table_rows(warehouse.dsn), table_rows(timescale_warehouse.dsn)
    assert {name: len(rows) for name, rows in hyper.items()} == {name: len(rows) for name, rows in plain.items()}
    assert hyper == plain
    assert len(hyper["heart_rate"]) > 20_000 and len(hyper["spo2"]) > 100 and len(hyper["daily_adherence"]) == 2
    chunks = dict(fetch_all(timescale_warehouse.dsn, "SELECT hypertable_name, count(*) FROM timescaledb_information.chunks"
                                                     " WHERE hypertable_schema = 'public' GROUP BY 1"))
    assert set(chunks) == set(HYPERTABLES) and chunks["heart_rate"] == 3  # New York days over three UTC days

    # Reloading the range replaces every day in place: the same rows, nothing doubled.
    again = materialize_graph(graph, instance, study_files, timescale_warehouse, tags=tags, adherence=AdherenceResource())
    assert again.success
    assert table_rows(timescale_warehouse.dsn) == hyper


@pytest.mark.integration
def test_a_late_day_replaces_its_rows_inside_a_compressed_chunk(instance, study_files, timescale_warehouse):
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    drop_day(study_files, LANDING, DAY, worn_only(6 * 60, 22 * 60))
    assert materialize_graph(FULL_GRAPH, instance, study_files, timescale_warehouse, participant_day=key,
                             adherence=AdherenceResource()).success
    dsn = timescale_warehouse.dsn
    conn = connect(dsn, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT compress_chunk(c) FROM show_chunks('heart_rate') AS c")
            compressed = len(cur.fetchall())
        assert compressed == 1  # worn 06:00-22:00 Berlin: one UTC day
    finally:
        conn.close()

    # The device syncs the rest of the day late: the day is replaced through the same graph, inside the chunks.
    drop_day(study_files, LANDING, DAY, worn_except((600, 603)))
    late = materialize_graph(FULL_GRAPH, instance, study_files, timescale_warehouse, participant_day=key,
                             adherence=AdherenceResource())
    assert late.success
    assert {e.check_name: e.passed for e in day_evaluations(late)} == {
        "validated_heart_rate_schema": True, "heart_rate_rows_match_validated": True,
        "heart_rate_aggregates_match_raw": True, "daily_adherence_valid_day": True,
    }
    [(wear, gaps)] = fetch_all(dsn, "SELECT wear_minutes, gap_count FROM daily_adherence WHERE participant_id = %s",
                               (LANDING.participant_id,))
    assert (wear, gaps) == (1440 - 3, 1)
    assert fetch_all(dsn, "SELECT count(*) FROM heart_rate WHERE participant_id = %s",
                     (LANDING.participant_id,)) == [(4 * (1440 - 3),)]
    # The whole day now reaches into the previous UTC day's new chunk; the compressed one stays compressed
    # (partially: its new rows wait for the next compression run).
    assert fetch_all(dsn, "SELECT is_compressed, count(*) FROM timescaledb_information.chunks"
                          " WHERE hypertable_name = 'heart_rate' GROUP BY 1 ORDER BY 1") == [(False, 1), (True, 1)]


def duplicated_buckets(dsn: str) -> dict[str, int]:
    """(participant, bucket) pairs held more than once, per aggregate level (compare_rollups would not see them)."""
    return {level: fetch_all(dsn, f"SELECT count(*) FROM (SELECT 1 FROM {level} GROUP BY participant_id, bucket"
                                  " HAVING count(*) > 1) AS d")[0][0]
            for level in ("heart_rate_1m", "heart_rate_1h", "heart_rate_1d")}


def policy_jobs(cur) -> dict[str, int]:
    """Job id of each policy of this database, by what it works on (hypertable or continuous aggregate)."""
    cur.execute("SELECT hypertable_name, job_id FROM timescaledb_information.jobs"
                " WHERE proc_name IN ('policy_compression', 'policy_refresh_continuous_aggregate')")
    return dict(cur.fetchall())


def run_jobs_now_and_wait(cur, job_ids: list[int]) -> None:
    """Move the jobs' next start to now and wait until the scheduler has run each once more."""
    cur.execute("SELECT job_id, coalesce(total_runs, 0) FROM timescaledb_information.job_stats"
                " WHERE job_id = ANY(%s)", (job_ids,))
    runs_before = {job_id: 0 for job_id in job_ids} | dict(cur.fetchall())
    cur.execute("SELECT alter_job(job_id, next_start => now()) FROM unnest(%s::int[]) AS job_id", (job_ids,))
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        cur.execute("SELECT job_id, total_runs, last_run_status FROM timescaledb_information.job_stats"
                    " WHERE job_id = ANY(%s)", (job_ids,))
        done = {job_id for job_id, runs, status in cur.fetchall()
                if runs > runs_before[job_id] and status in ("Success", "Failed")}
        if done == set(job_ids):
            return
        assert time.monotonic() < deadline, f"jobs {sorted(set(job_ids) - done)} did not run within {JOB_TIMEOUT_S} s"
        time.sleep(0.25)


@pytest.mark.integration
def test_the_job_schedulers_policies_run_beside_the_pipelines_own_refresh(clean_timescale_dsn):
    """Compression (older than 14 days) and the three refresh policies (last 30 days) run in TimescaleDB's
    background workers while the pipeline replaces days (one inside a chunk being compressed) and refreshes the same
    aggregates: no deadlock, no failed job, and the aggregates equal the raw rows."""
    dsn = clean_timescale_dsn
    who = Participant("sched-01", 5, "UTC", dt.date(2025, 1, 1), "synthetic")
    today = dt.datetime.now(dt.timezone.utc).date()
    old, untouched, recent = (LocalDay(today - dt.timedelta(days=n), "UTC") for n in (20, 19, 3))
    conn = connect(dsn)
    assert apply_schema(conn, "require") == "timescaledb"
    upsert_participant(conn, who)
    for day in (old, untouched, recent):
        replace_heart_rate_day(conn, who.participant_id, day, day_frame(who.participant_id, day, all_worn))
    spo2 = FAMILIES_BY_NAME["spo2"]
    spo2_frame = spo2.to_warehouse_frame(spo2.parse(spo2.generate(who, old.local_date), who.participant_id, old))
    replace_rows(conn, "spo2", spo2.columns, spo2_frame, who.participant_id, old)
    conn.close()

    stop, errors, rounds = threading.Event(), [], []

    def pipeline_loop():
        # What heart_rate_rows -> heart_rate_aggregates -> daily_adherence do for the recent day and a late day.
        loader = connect(dsn)
        try:
            while not stop.is_set():
                for day, worn in ((recent, worn_except((60 * len(rounds) % 1380, 60 * len(rounds) % 1380 + 30))),
                                  (old, worn_except((600, 630)))):
                    replace_heart_rate_day(loader, who.participant_id, day, day_frame(who.participant_id, day, worn))
                    refresh_heart_rate_aggregates(loader, who.participant_id, utc_day_window([day]))
                    compute_daily_adherence(loader, who.participant_id, day, AdherenceParams())
                rounds.append(time.monotonic())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            loader.close()

    worker = threading.Thread(target=pipeline_loop)
    admin = connect(dsn, autocommit=True)
    try:
        with admin.cursor() as cur:
            jobs = policy_jobs(cur)
            assert set(jobs) == {*HYPERTABLES, "heart_rate_1m", "heart_rate_1h", "heart_rate_1d"}
            worker.start()
            # Lowest level first, as each level reads the one below: compression and 1 min, then 1 h, then 1 day.
            run_jobs_now_and_wait(cur, [jobs[name] for name in (*HYPERTABLES, "heart_rate_1m")])
            run_jobs_now_and_wait(cur, [jobs["heart_rate_1h"]])
            run_jobs_now_and_wait(cur, [jobs["heart_rate_1d"]])
            stop.set()
            worker.join(120)
            assert not worker.is_alive() and errors == [] and len(rounds) >= 1
            cur.execute("SELECT j.hypertable_name, s.total_successes, s.total_failures FROM timescaledb_information.jobs j"
                        " JOIN timescaledb_information.job_stats s USING (job_id) WHERE j.job_id = ANY(%s)",
                        (list(jobs.values()),))
            stats = {name: (successes, failures) for name, successes, failures in cur.fetchall()}
            assert all(successes >= 1 and failures == 0 for successes, failures in stats.values()), stats
            cur.execute("SELECT count(*) FROM timescaledb_information.job_errors")
            assert cur.fetchone() == (0,)
            cur.execute("SELECT hypertable_name, range_start::date, is_compressed FROM timescaledb_information.chunks"
                        " WHERE hypertable_name IN ('heart_rate', 'spo2')")
            chunks = cur.fetchall()
            assert {(t, start) for t, start, compressed in chunks if compressed} == {
                ("heart_rate", old.local_date), ("heart_rate", untouched.local_date),
                *{("spo2", start) for t, start, _ in chunks if t == "spo2"}}
            # The day the pipeline never refreshed was materialized by the policies alone, at every level.
            samples = count_heart_rate_day(admin, who.participant_id, untouched)
            for level in ("heart_rate_1m", "heart_rate_1h", "heart_rate_1d"):
                cur.execute(f"SELECT sum(samples) FROM {level} WHERE bucket >= %s AND bucket < %s",
                            (untouched.start_utc, untouched.end_utc))
                assert cur.fetchone() == (samples,), level
        window = utc_day_window([old, recent])
        compared, mismatches = aggregate_mismatches(admin, who.participant_id, window)
        assert compared > 3 * 1440 and mismatches == []
        assert duplicated_buckets(dsn) == {"heart_rate_1m": 0, "heart_rate_1h": 0, "heart_rate_1d": 0}
    finally:
        stop.set()
        if worker.is_alive():
            worker.join(120)
        admin.close()
    print(f"\npipeline rounds beside the policies: {len(rounds)}; job stats (successes, failures): {stats}")


@pytest.mark.integration
def test_two_loaders_at_once_create_and_fill_the_same_chunks(clean_timescale_dsn):
    setup = connect(clean_timescale_dsn)
    assert apply_schema(setup, "require") == "timescaledb"
    people = [Participant(f"two-{n}", n, "America/New_York", DAY, "synthetic") for n in (1, 2)]
    for who in people:
        upsert_participant(setup, who)
    setup.close()
    days = [LocalDay(DAY + dt.timedelta(days=n), "America/New_York") for n in range(4)]
    start, errors = threading.Barrier(len(people)), []

    def load(who: Participant):
        conn = connect(clean_timescale_dsn)
        try:
            start.wait(30)
            for day in days:
                replace_heart_rate_day(conn, who.participant_id, day, day_frame(who.participant_id, day, all_worn))
            refresh_heart_rate_aggregates(conn, who.participant_id, utc_day_window(days))
            for day in days:
                compute_daily_adherence(conn, who.participant_id, day, AdherenceParams())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=load, args=(who,)) for who in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert errors == []
    per_participant = dict(fetch_all(clean_timescale_dsn, "SELECT participant_id, count(*) FROM heart_rate GROUP BY 1"))
    assert per_participant == {who.participant_id: 4 * 1440 * 4 for who in people}
    # Four New York days touch five UTC days: one chunk each, shared by both participants.
    assert fetch_all(clean_timescale_dsn, "SELECT count(*) FROM show_chunks('heart_rate')") == [(5,)]
    conn = connect(clean_timescale_dsn)
    try:
        for who in people:
            compared, mismatches = aggregate_mismatches(conn, who.participant_id, utc_day_window(days))
            assert compared > 0 and mismatches == []
    finally:
        conn.close()
    assert duplicated_buckets(clean_timescale_dsn) == {"heart_rate_1m": 0, "heart_rate_1h": 0, "heart_rate_1d": 0}
    assert fetch_all(clean_timescale_dsn, "SELECT count(*), bool_and(valid_day) FROM daily_adherence") == [(8, True)]
