import datetime as dt
from pathlib import Path

import dagster as dg

from fitbit_assets.definitions import defs
from fitbit_assets.defs.participants.schedules import daily_pipeline_schedule, daily_run_requests
from fitbit_assets.defs.participants.sensors import participant_roster_sensor
from fitbit_assets.domain.roster import Participant, read_roster, write_roster
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC

TICK = dt.datetime(2025, 6, 20, 12, 30, tzinfo=dt.timezone.utc)


def evaluate_schedule(instance, study_files, when=TICK):
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"study_files": study_files}
    )
    return daily_pipeline_schedule.evaluate_tick(context)


def ranges_of(result):
    return {
        r.run_key: (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"],
                    r.tags[PARTICIPANTS_TAG])
        for r in result.run_requests
    }


def test_tick_requests_yesterday_and_trailing_window_for_the_cohort_in_one_run(instance, study_files):
    assert ranges_of(evaluate_schedule(instance, study_files)) == {
        "syn-01..land-01:2025-06-19": ("2025-06-16", "2025-06-19", "land-01,syn-01")
    }


def test_tick_batches_roster_participants_and_leaves_out_the_not_yet_enrolled(study_files):
    late = Participant("late-01", 3, "Asia/Tokyo", dt.date(2025, 6, 18), "synthetic")
    future = Participant("future-01", 4, "UTC", dt.date(2025, 7, 1), "synthetic")
    cohort = [Participant(f"c-{i:02d}", i, "UTC", dt.date(2025, 1, 1), "synthetic") for i in range(3)]
    # land-01 is no longer in the roster: it is not loaded any more; future-01 is not enrolled yet.
    write_roster(Path(study_files.roster_path), [SYNTHETIC, late, future, *cohort])
    requests = daily_run_requests(
        read_roster(Path(study_files.roster_path)), TICK.date(), trailing_days=3, study_start=dt.date(2024, 1, 1),
        participants_per_run=2,
    )
    # A batch starts at its earliest enrolment inside the window: the late participant's days before it are skipped.
    assert ranges_of(dg.SensorResult(run_requests=requests)) == {
        "syn-01..late-01:2025-06-19": ("2025-06-16", "2025-06-19", "late-01,syn-01"),
        "c-00..c-01:2025-06-19": ("2025-06-16", "2025-06-19", "c-00,c-01"),
        "c-02..c-02:2025-06-19": ("2025-06-16", "2025-06-19", "c-02"),
    }


def test_scheduled_request_runs_as_one_ranged_run(instance, study_files, warehouse, query):
    [request] = evaluate_schedule(instance, study_files).run_requests
    job = defs.resolve_job_def("pipeline_job")
    result = job.execute_in_process(
        instance=instance, tags=request.tags, resources={"study_files": study_files, "warehouse": warehouse}
    )
    assert result.success
    loaded = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["heart_rate_rows"]]
    assert sorted(e.partition for e in loaded) == [f"2025-06-{d}" for d in (16, 17, 18, 19)]
    # Each day's materialization says what happened that day: the synthetic participant loaded, the landing one
    # has no export yet.
    assert {(e.materialization.metadata["participants_loaded"].value,
             e.materialization.metadata["participants_without_data"].value) for e in loaded} == {(1, 1)}
    [(days,)] = query("SELECT count(DISTINCT (ts AT TIME ZONE 'America/New_York')::date) FROM heart_rate")
    assert days == 4


def test_sensor_reports_roster_changes_once_and_bad_rows(study_files):
    roster_path = Path(study_files.roster_path)
    write_roster(roster_path, [SYNTHETIC])
    with roster_path.open("a") as handle:
        handle.write("bad id!,1,UTC,2025-01-01,synthetic,typical\n")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"study_files": study_files})
        first = participant_roster_sensor(context)
        assert "added syn-01" in first.skip_message and "rejected rows" in first.skip_message

        write_roster(roster_path, [LANDING])
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources={"study_files": study_files})
        change = participant_roster_sensor(context)
        assert "added land-01; removed syn-01 (history kept, no longer loaded); 1 participants" in change.skip_message

        with roster_path.open("a") as handle:
            handle.write("p2,1,Not/AZone,2025-01-01,synthetic,typical\n")
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources={"study_files": study_files})
        skip = participant_roster_sensor(context)
        assert "roster unchanged (1 participants)" in skip.skip_message
        assert "timezone 'Not/AZone' is not an IANA timezone" in skip.skip_message
