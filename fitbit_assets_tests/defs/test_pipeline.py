"""The asset graph through Dagster on the real embedded PostgreSQL."""

import datetime as dt
from functools import partial
from pathlib import Path

import dagster as dg
import pandas as pd

from fitbit_assets.definitions import defs
from fitbit_assets.defs.datasets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.defs.datasets.factory import ASSETS, heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.lib.study_files import HEART_RATE
from fitbit_assets_tests.support.runs import day_evaluations, failing_participant_days, materialize_graph
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC

GRAPH = [
    raw_heart_rate_csv,
    validated_heart_rate,
    heart_rate_rows,
    validated_heart_rate_schema,
    heart_rate_rows_match_validated,
]
DAY = dt.date(2025, 6, 10)
materialize = partial(materialize_graph, GRAPH)


def rows_for(query, participant_id):
    return query("SELECT ts, bpm FROM heart_rate WHERE participant_id = %s ORDER BY ts", (participant_id,))


def drop_landing_file(study_files, participant, date, rows):
    body = "time,value\n" + "".join(f"{t},{v}\n" for t, v in rows)
    path = study_files.day_file("heart_rate", ParticipantDayKey(date, participant.participant_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == {
        "google_health_pull",
        "raw_heart_rate_csv",
        "validated_heart_rate",
        "heart_rate_rows",
        "heart_rate_aggregates",
        "daily_adherence",
        "device_sync_events",
    } | {asset.key.to_user_string() for asset in ASSETS}
    assert defs.resolve_job_def("pipeline_job") is not None
    assert defs.resolve_schedule_def("daily_pipeline_schedule").cron_schedule == "30 12 * * *"


def test_synthetic_day_end_to_end_and_idempotent(instance, study_files, warehouse, query):
    key = ParticipantDayKey(DAY, SYNTHETIC.participant_id)
    first = materialize(instance, study_files, warehouse, participant_day=key)
    assert first.success
    expected = generate_heart_rate_day(SYNTHETIC, DAY)
    loaded = rows_for(query, SYNTHETIC.participant_id)
    assert len(loaded) == len(expected) > 5000
    assert [bpm for _, bpm in loaded] == list(expected["value"])
    assert all(e.passed for e in first.get_asset_check_evaluations())
    # One evaluation per check for the day, judging the participant of the run.
    assert {(e.check_name, e.partition) for e in day_evaluations(first)} == {
        ("validated_heart_rate_schema", DAY.isoformat()), ("heart_rate_rows_match_validated", DAY.isoformat())
    }
    schema = next(e for e in day_evaluations(first) if e.check_name == "validated_heart_rate_schema")
    assert (schema.metadata["participants_checked"].value, schema.metadata["participants_failed"].value) == (1, 0)
    # The day's materialization describes that day: this participant's rows, one participant loaded.
    [rows_event] = [e for e in first.get_asset_materialization_events() if e.asset_key == heart_rate_rows.key]
    day_metadata = {k: v.value for k, v in rows_event.materialization.metadata.items()}
    assert (day_metadata["local_date"], day_metadata["rows_inserted"], day_metadata["participants_loaded"]) == (
        DAY.isoformat(), len(expected), 1
    )

    second = materialize(instance, study_files, warehouse, participant_day=key)
    [again] = [e for e in second.get_asset_materialization_events() if e.asset_key == heart_rate_rows.key]
    assert again.materialization.metadata["participants_unchanged"].value == 1
    assert second.success
    assert rows_for(query, SYNTHETIC.participant_id) == loaded  # no duplicates, no leftovers


def test_changed_landing_file_reloads_exactly_the_new_rows(instance, study_files, warehouse, query):
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    drop_landing_file(study_files, LANDING, DAY, [("08:00:00", 70), ("08:00:05", 71), ("08:00:10", 72)])
    assert materialize(instance, study_files, warehouse, participant_day=key).success
    assert [b for _, b in rows_for(query, LANDING.participant_id)] == [70, 71, 72]

    drop_landing_file(study_files, LANDING, DAY, [("09:00:00", 90), ("09:00:15", 91)])
    assert materialize(instance, study_files, warehouse, participant_day=key).success
    loaded = rows_for(query, LANDING.participant_id)
    assert [b for _, b in loaded] == [90, 91]
    assert loaded[0][0] == pd.Timestamp("2025-06-10T07:00:00Z")  # Berlin CEST = UTC+2


def test_failing_day_is_quarantined_keeps_its_rows_and_a_corrected_file_loads(instance, study_files, warehouse, query):
    day_key = ParticipantDayKey(DAY, LANDING.participant_id)
    drop_landing_file(study_files, LANDING, DAY, [("08:00:00", 70), ("08:00:05", 71)])
    assert materialize(instance, study_files, warehouse, participant_day=day_key).success
    before = rows_for(query, LANDING.participant_id)

    bad = drop_landing_file(study_files, LANDING, DAY, [("08:00:00", 70), ("08:00:05", 400), ("08:00:05", 72)])
    result = materialize(instance, study_files, warehouse, participant_day=day_key)
    assert result.success  # the check is red, the run is not: other days of a range would have loaded
    [evaluation] = day_evaluations(result, "validated_heart_rate_schema")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.partition == DAY.isoformat()
    [metadata] = failing_participant_days(evaluation)
    assert metadata["failed_rules"] == {
        "bpm.less_than_or_equal_to(250)": 1,
        "ts.field_uniqueness": 2,
        "ts.ts_strictly_increasing": 1,
    }
    assert (metadata["participant_id"], metadata["local_date"], metadata["file"]) == (
        LANDING.participant_id, DAY.isoformat(), str(bad)
    )
    assert {s["csv_line"] for s in metadata["sample_rows"]} == {3, 4}
    assert rows_for(query, LANDING.participant_id) == before  # nothing half-loaded, nothing lost
    assert not study_files.validated_path(HEART_RATE, day_key).exists()
    quarantine = study_files.quarantine_dir(HEART_RATE, day_key)
    assert sorted(p.name for p in quarantine.iterdir()) == [bad.name, "validation.json"]
    assert (quarantine / bad.name).read_bytes() == bad.read_bytes()

    drop_landing_file(study_files, LANDING, DAY, [("08:00:00", 70), ("08:00:05", 75), ("08:00:10", 72)])
    fixed = materialize(instance, study_files, warehouse, participant_day=day_key)
    assert all(e.passed for e in day_evaluations(fixed))
    assert [b for _, b in rows_for(query, LANDING.participant_id)] == [70, 75, 72]
    assert not quarantine.exists()


def test_a_later_run_of_another_participant_keeps_the_day_failing(instance, study_files, warehouse):
    drop_landing_file(study_files, LANDING, DAY, [("08:00:00", 70), ("08:00:00", 71)])  # duplicate timestamp
    assert materialize(instance, study_files, warehouse, participant_day=ParticipantDayKey(DAY, LANDING.participant_id)).success
    other = materialize(instance, study_files, warehouse, participant_day=ParticipantDayKey(DAY, SYNTHETIC.participant_id))
    [evaluation] = day_evaluations(other, "validated_heart_rate_schema")
    # The synthetic day passed, but the landing participant's failure of the same day is carried over.
    assert not evaluation.passed
    assert [f["participant_id"] for f in failing_participant_days(evaluation)] == [LANDING.participant_id]
    assert "1 failing participant(s) of earlier runs not re-checked" in evaluation.description


def test_bad_day_of_a_range_blocks_only_itself(instance, study_files, warehouse, query):
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    for day in days:
        drop_landing_file(study_files, LANDING, day, [("08:00:00", 70), ("08:00:05", 71)])
    drop_landing_file(study_files, LANDING, days[1], [("08:00:00", 70), ("08:00:00", 71)])  # duplicate timestamp
    result = materialize(instance, study_files, warehouse, tags=range_tags(LANDING.participant_id, days[0], days[-1]))
    assert result.success
    schema = {e.partition: e.passed for e in day_evaluations(result, "validated_heart_rate_schema")}
    assert schema == {d.isoformat(): d != days[1] for d in days}
    [bad_day] = [e for e in day_evaluations(result, "validated_heart_rate_schema") if not e.passed]
    assert [(f["participant_id"], f["local_date"]) for f in failing_participant_days(bad_day)] == [
        (LANDING.participant_id, days[1].isoformat())
    ]
    [(loaded_days,)] = query(
        "SELECT count(DISTINCT (ts AT TIME ZONE 'Europe/Berlin')::date) FROM heart_rate WHERE participant_id = %s",
        (LANDING.participant_id,),
    )
    assert loaded_days == 2


def test_missing_landing_file_is_a_retryable_no_data_yet(instance, study_files, warehouse):
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    result = materialize(instance, study_files, warehouse, participant_day=key)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.step_failure_data.user_failure_data
    landing = Path(study_files.landing_dir)
    # The concrete file and the participant's export folder, not a path template.
    assert error.description == (
        f"no data yet for {LANDING.participant_id}/{DAY}: no day file "
        f"{landing / 'heart_rate' / LANDING.participant_id / f'{DAY}.csv'}, and no heart-rate export covering these "
        f"days in {landing / LANDING.participant_id}/ or {landing / 'fitabase'}/"
    )
    assert failure.step_failure_data.error.cls_name == "Failure"


def test_unknown_participant_is_named(instance, study_files, warehouse):
    result = materialize(instance, study_files, warehouse, participant_day=ParticipantDayKey(DAY, "ghost"))
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert description == f"run tag fitbit/participants names participant(s) not in the roster {study_files.roster_path}: ghost"


def test_single_run_backfill_of_several_days(instance, study_files, warehouse, query):
    first, last = DAY, DAY + dt.timedelta(days=4)
    result = materialize(instance, study_files, warehouse, tags=range_tags(SYNTHETIC.participant_id, first, last))
    assert result.success
    assert len(instance.get_runs()) == 1
    expected = sum(len(generate_heart_rate_day(SYNTHETIC, first + dt.timedelta(days=i))) for i in range(5))
    [(count,)] = query("SELECT count(*) FROM heart_rate WHERE participant_id = %s", (SYNTHETIC.participant_id,))
    assert count == expected
    materialized = {
        (e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()
    }
    assert {p for a, p in materialized if a == "heart_rate_rows"} == {
        (first + dt.timedelta(days=i)).isoformat() for i in range(5)
    }
    # The other participant was not touched by this participant's range.
    assert query("SELECT count(*) FROM heart_rate WHERE participant_id = %s", (LANDING.participant_id,)) == [(0,)]


def test_days_before_enrolment_produce_nothing(instance, study_files, warehouse, query):
    before = SYNTHETIC.enrolled_on - dt.timedelta(days=1)
    result = materialize(instance, study_files, warehouse, participant_day=ParticipantDayKey(before, SYNTHETIC.participant_id))
    assert result.success
    assert query("SELECT count(*) FROM heart_rate") == [(0,)]
