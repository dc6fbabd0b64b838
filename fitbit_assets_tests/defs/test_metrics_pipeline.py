"""The metric families through Dagster on the real embedded PostgreSQL, and their TimescaleDB layer."""

import datetime as dt
import json
from functools import partial

import psycopg2
import pytest

from fitbit_assets.definitions import defs
from fitbit_assets.defs.datasets.factory import DATASET_ASSETS
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES, FAMILIES_BY_NAME, read_metric_file
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.serving.reports import metrics_summary_rows, sleep_summary_rows
from fitbit_assets.warehouse.days import count_rows, replace_local_date_rows, upsert_participant
from fitbit_assets.warehouse.schema import apply_schema
from fitbit_assets_tests.support.graphs import METRIC_ASSETS, METRIC_CHECKS, METRIC_GRAPH
from fitbit_assets_tests.support.runs import day_evaluations, failing_participant_days, materialize_graph
from fitbit_assets_tests.support.sleep_documents import fitabase_document
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC

DAY = dt.date(2025, 6, 10)
GRAPH = METRIC_GRAPH
materialize = partial(materialize_graph, GRAPH)


def expected_rows(study_files, family, participant, date):
    key = ParticipantDayKey(date, participant.participant_id)
    day = LocalDay(date, participant.timezone)
    path = study_files.day_file(family.landing_name, key)
    return len(read_metric_file(family, path, participant.participant_id, day))


def table_count(query, table, participant_id):
    return query(f"SELECT count(*) FROM {table} WHERE participant_id = %s", (participant_id,))[0][0]


def test_metric_families_are_in_the_daily_job():
    job_assets = defs.resolve_job_def("pipeline_job").asset_layer.executable_asset_keys
    assert {a.key for a in METRIC_ASSETS} <= set(job_assets)
    # sleep_minutes reads sleep's landing files: one landing asset less than three per family.
    assert len(METRIC_ASSETS) == 3 * len(FAMILIES) - 1 == 23


def test_all_families_of_a_synthetic_range_load_and_reload_idempotently(instance, study_files, warehouse, query):
    first, last = DAY, DAY + dt.timedelta(days=2)
    result = materialize(instance, study_files, warehouse, tags=range_tags(SYNTHETIC.participant_id, first, last))
    assert result.success
    assert len(instance.get_runs()) == 1
    evaluations = day_evaluations(result)
    assert len(evaluations) == 2 * len(FAMILIES) * 3 and all(e.passed for e in result.get_asset_check_evaluations())
    counts = {}
    for family in FAMILIES:
        expected = sum(expected_rows(study_files, family, SYNTHETIC, first + dt.timedelta(days=i)) for i in range(3))
        counts[family.table] = table_count(query, family.table, SYNTHETIC.participant_id)
        assert counts[family.table] == expected, family.name
    # Daily tables: one row per day; intraday tables: realistic volumes (SpO2/HRV ~12/h of sleep).
    for table in ("heart_rate_daily_summary", "activity_daily_summary", "sleep_daily"):
        assert counts[table] == 3
    [(asleep, in_bed)] = query("SELECT sum(minutes_asleep), sum(time_in_bed) FROM sleep_daily")
    assert 0 < asleep <= in_bed == counts["sleep_minutes"]  # synthetic nights have every minute's state
    assert 150 <= counts["spo2"] <= 400 and 150 <= counts["hrv"] <= 400 and counts["active_zone_minutes"] > 0
    assert counts["breathing_rate_daily"] >= 2
    [(spo2_dates,)] = query("SELECT array_agg(DISTINCT local_date ORDER BY local_date) FROM spo2")
    assert set(spo2_dates) <= {first + dt.timedelta(days=i) for i in range(3)}

    [row] = metrics_summary_rows(psycopg2.connect(warehouse.dsn))
    assert row[0] == SYNTHETIC.participant_id and row[1] == 3 and "-" not in row
    nightly = query("SELECT minutes_asleep FROM sleep_daily ORDER BY local_date")
    [sleep_row] = sleep_summary_rows(psycopg2.connect(warehouse.dsn))
    slept = [m for (m,) in nightly if m > 0]
    assert sleep_row[:4] == (SYNTHETIC.participant_id, 3, len(slept), int(sum(slept) / len(slept) + 0.5))  # SQL round: half away from zero
    assert sleep_row[5] == " ".join(str(m) for (m,) in nightly)

    again = materialize(instance, study_files, warehouse, tags=range_tags(SYNTHETIC.participant_id, first, last))
    assert again.success
    assert {f.table: table_count(query, f.table, SYNTHETIC.participant_id) for f in FAMILIES} == counts


def drop(study_files, family_name, participant, date, text):
    family = FAMILIES_BY_NAME[family_name]
    path = study_files.day_file(family.landing_name, ParticipantDayKey(date, participant.participant_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_malformed_landing_file_fails_its_check_naming_the_file_and_is_quarantined(instance, study_files, warehouse, query):
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    good = {"dateTime": DAY.isoformat(), "minutes": [{"value": 95.5, "minute": f"{DAY}T03:00:12"},
                                                     {"value": 96.0, "minute": f"{DAY}T03:05:40"}]}
    drop(study_files, "spo2", LANDING, DAY, json.dumps(good))
    spo2_graph = [*DATASET_ASSETS["spo2"], *(c for c in METRIC_CHECKS if "spo2" in c.node_def.name)]
    assert materialize_graph(spo2_graph, instance, study_files, warehouse, participant_day=key).success
    assert table_count(query, "spo2", LANDING.participant_id) == 2

    path = drop(study_files, "spo2", LANDING, DAY, '{"dateTime": "2025-06-10", "minutes": [{"value": 95}')
    hrv_path = drop(study_files, "hrv", LANDING, DAY, json.dumps({"hrv": [{"dateTime": str(DAY), "minutes": [
        {"minute": f"{DAY}T03:00:00.000", "value": {"rmssd": 30, "coverage": 0.9, "hf": 100, "lf": 200}},
        {"minute": f"{DAY}T03:00:00.000", "value": {"rmssd": 31, "coverage": 1.5, "hf": 100, "lf": 200}}]}]}))
    result = materialize(instance, study_files, warehouse, participant_day=key)
    assert result.success  # the failed checks are red; the day's other families load
    checks = {e.check_name: e for e in day_evaluations(result)}
    spo2_check = checks["validated_spo2_schema"]
    assert not spo2_check.passed
    assert str(path) in spo2_check.description and "not valid JSON" in spo2_check.description
    [spo2_failure] = failing_participant_days(spo2_check)
    assert (spo2_failure["participant_id"], spo2_failure["file"]) == (LANDING.participant_id, str(path))
    hrv_check = checks["validated_hrv_schema"]
    assert not hrv_check.passed
    [hrv_failure] = failing_participant_days(hrv_check)
    assert hrv_failure["failed_rules"] == {"coverage.less_than_or_equal_to(1)": 1, "ts.field_uniqueness": 2}
    assert str(hrv_path) not in str(hrv_failure["sample_rows"])  # row-level: rows, not the file
    assert {e.check_name for e in day_evaluations(result) if not e.passed} == {"validated_spo2_schema", "validated_hrv_schema"}
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    spo2_quarantine = study_files.quarantine_dir("spo2", ParticipantDayKey(DAY, LANDING.participant_id))
    assert (spo2_quarantine / path.name).read_bytes() == path.read_bytes()
    # The previous good load stays; nothing of the malformed files reached the tables or the Parquet store.
    assert table_count(query, "spo2", LANDING.participant_id) == 2
    assert table_count(query, "hrv", LANDING.participant_id) == 0
    assert not study_files.validated_path("spo2", ParticipantDayKey(DAY, LANDING.participant_id)).exists()
    # The other landing families had no file: "no data yet", skipped without failing their steps.
    assert "activity_summary_rows" in materialized


def test_timescaledb_makes_the_intraday_tables_compressed_hypertables(clean_timescale_dsn):
    conn = psycopg2.connect(clean_timescale_dsn, connect_timeout=10)
    try:
        assert apply_schema(conn, "require") == "timescaledb"
        with conn.cursor() as cur:
            cur.execute(
                "SELECT h.hypertable_name, h.compression_enabled, d.time_interval"
                " FROM timescaledb_information.hypertables h JOIN timescaledb_information.dimensions d USING"
                " (hypertable_schema, hypertable_name)"
                " WHERE h.hypertable_name IN ('spo2', 'hrv', 'active_zone_minutes', 'sleep_minutes', 'activity_daily_summary',"
                " 'sleep_daily') ORDER BY 1"
            )
            assert cur.fetchall() == [
                ("active_zone_minutes", True, dt.timedelta(days=7)),
                ("hrv", True, dt.timedelta(days=7)),
                ("sleep_minutes", True, dt.timedelta(days=7)),
                ("spo2", True, dt.timedelta(days=7)),
            ]
        # The one loader (COPY + atomic day replace) on a hypertable.
        family = FAMILIES_BY_NAME["spo2"]
        day = LocalDay(DAY, SYNTHETIC.timezone)
        frame = family.to_warehouse_frame(family.parse(family.generate(SYNTHETIC, DAY), SYNTHETIC.participant_id, day))
        days = [(SYNTHETIC.participant_id, day, frame)]
        assert replace_local_date_rows(conn, "spo2", family.columns, days) == [(0, len(frame))]
        assert replace_local_date_rows(conn, "spo2", family.columns, days) == [(len(frame), len(frame))]
        assert count_rows(conn, "spo2", SYNTHETIC.participant_id, day) == len(frame) > 50
    finally:
        conn.close()


def test_sleep_documents_load_both_tables_replace_a_resent_night_and_quarantine_a_bad_one(instance, study_files, warehouse, query):
    """A Fitabase-style classic night (known totals) loads sleep_daily and sleep_minutes; a re-sent document with a
    changed value replaces that night in both; a self-contradicting document fails both checks for its day only."""
    sleep_graph = [*DATASET_ASSETS["sleep"], *DATASET_ASSETS["sleep_minutes"][1:],
                   *(c for c in METRIC_CHECKS if c.node_def.name.startswith(("validated_sleep", "sleep")))]
    first, second = DAY, DAY + dt.timedelta(days=1)
    tags = range_tags(LANDING.participant_id, first, second)
    drop(study_files, "sleep", LANDING, first, json.dumps(fitabase_document(first)))
    drop(study_files, "sleep", LANDING, second, json.dumps(fitabase_document(second)))
    assert materialize_graph(sleep_graph, instance, study_files, warehouse, tags=tags).success
    nightly = "SELECT local_date, minutes_asleep, time_in_bed, sleep_records, main_sleep_start FROM sleep_daily ORDER BY 1"
    # Berlin is UTC+2 in June: the main sleep starting 22:40 local starts 20:40 UTC.
    assert query(nightly)[0][:4] == (first, 470, 495, 2)
    assert query(nightly)[0][4] == dt.datetime(2025, 6, 9, 20, 40, tzinfo=dt.timezone.utc)
    assert query("SELECT local_date, level, count(*) FROM sleep_minutes GROUP BY 1, 2 ORDER BY 1, 2") == [
        (date, level, n) for date in (first, second) for level, n in (("asleep", 470), ("awake", 13), ("restless", 12))
    ]

    resent = fitabase_document(first)
    resent["sleep"].pop()  # the nap is gone from the re-sent export
    resent["summary"] = {"totalMinutesAsleep": 430, "totalSleepRecords": 1, "totalTimeInBed": 450}
    drop(study_files, "sleep", LANDING, first, json.dumps(resent))
    bad = fitabase_document(second)
    bad["summary"]["totalMinutesAsleep"] = 471
    bad_path = drop(study_files, "sleep", LANDING, second, json.dumps(bad))
    result = materialize_graph(sleep_graph, instance, study_files, warehouse, tags=tags)
    assert result.success
    failed = {e.check_name: e for e in day_evaluations(result) if not e.passed}
    assert set(failed) == {"validated_sleep_schema", "validated_sleep_minutes_schema"}
    for check in failed.values():
        assert check.partition == second.isoformat()
        assert [(f["participant_id"], f["local_date"]) for f in failing_participant_days(check)] == [
            (LANDING.participant_id, second.isoformat())]
        assert str(bad_path) in check.description and "totalMinutesAsleep 471 != 470" in check.description
    assert [row[:4] for row in query(nightly)] == [(first, 430, 450, 1), (second, 470, 495, 2)]  # bad night kept
    assert query("SELECT local_date, count(*) FROM sleep_minutes GROUP BY 1 ORDER BY 1") == [(first, 450), (second, 495)]


def test_days_replaced_in_one_transaction_each_count_their_rows_and_a_failure_keeps_every_day(warehouse):
    """The families' loader: many participant-days, one DELETE + COPY. Per-day counts; a bad day rolls back all."""
    family = FAMILIES_BY_NAME["spo2"]
    days = [LocalDay(DAY + dt.timedelta(days=i), SYNTHETIC.timezone) for i in range(3)]
    frames = [family.to_warehouse_frame(family.parse(family.generate(SYNTHETIC, d.local_date), SYNTHETIC.participant_id, d))
              for d in days]
    conn = psycopg2.connect(warehouse.dsn)
    try:
        apply_schema(conn, "off")
        upsert_participant(conn, SYNTHETIC)
        batch = [(SYNTHETIC.participant_id, d, f) for d, f in zip(days, frames)]
        assert replace_local_date_rows(conn, "spo2", family.columns, batch[:2]) == [(0, len(frames[0])), (0, len(frames[1]))]
        fingerprints = []
        counts = replace_local_date_rows(conn, "spo2", family.columns, batch,
                                         in_transaction=lambda cur, index, inserted: fingerprints.append((index, inserted)))
        assert counts == [(len(frames[0]), len(frames[0])), (len(frames[1]), len(frames[1])), (0, len(frames[2]))]
        assert fingerprints == [(i, len(f)) for i, f in enumerate(frames)]
        # A day whose rows the table refuses (an impossible SpO2) fails the batch: every day keeps its rows.
        assert len(frames[0]) > 50
        broken = frames[0].assign(spo2=250.0)
        with pytest.raises(psycopg2.errors.CheckViolation):
            replace_local_date_rows(conn, "spo2", family.columns, [*batch[1:], (SYNTHETIC.participant_id, days[0], broken)])
        assert [count_rows(conn, "spo2", SYNTHETIC.participant_id, d) for d in days] == [len(f) for f in frames]
    finally:
        conn.close()
