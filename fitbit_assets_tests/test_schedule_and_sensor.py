import datetime as dt
from pathlib import Path

import dagster as dg

from fitbit_assets.definitions import defs
from fitbit_assets.defs.participants.schedules import daily_heart_rate_schedule, daily_run_requests
from fitbit_assets.defs.participants.sensors import participant_roster_sensor
from fitbit_assets.domain.roster import Participant, read_roster, write_roster
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets_tests.conftest import LANDING, SYNTHETIC

TICK = dt.datetime(2025, 6, 20, 12, 30, tzinfo=dt.timezone.utc)


def evaluate_schedule(instance, study_files, when=TICK):
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"study_files": study_files}
    )
    return daily_heart_rate_schedule.evaluate_tick(context)


def ranges_of(result):
    return {
        r.run_key: (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in result.run_requests
    }


def test_tick_requests_yesterday_and_trailing_window_for_the_cohort_in_one_run(instance, study_files):
    # Both participants are adjacent in registration order: one ranged run covers both (a rectangle).
    assert ranges_of(evaluate_schedule(instance, study_files)) == {
        "syn-01..land-01:2025-06-19": ("2025-06-16|syn-01", "2025-06-19|land-01")
    }


def test_tick_batches_participants_and_splits_at_unenrolled_or_removed(instance, study_files):
    late = Participant("late-01", 3, "Asia/Tokyo", dt.date(2025, 6, 18), "synthetic")
    future = Participant("future-01", 4, "UTC", dt.date(2025, 7, 1), "synthetic")
    cohort = [Participant(f"c-{i:02d}", i, "UTC", dt.date(2025, 1, 1), "synthetic") for i in range(5)]
    write_roster(Path(study_files.roster_path), [SYNTHETIC, late, future, *cohort])
    # land-01 is no longer in the roster; future-01 is not enrolled yet: both split the registration order.
    instance.add_dynamic_partitions("participant", ["late-01", "future-01", *(p.participant_id for p in cohort)])
    requests = daily_run_requests(
        read_roster(Path(study_files.roster_path)), instance.get_dynamic_partitions("participant"),
        TICK.date(), trailing_days=3, study_start=dt.date(2024, 1, 1), participants_per_run=2,
    )
    assert ranges_of(dg.SensorResult(run_requests=requests)) == {
        "syn-01..syn-01:2025-06-19": ("2025-06-16|syn-01", "2025-06-19|syn-01"),
        "late-01..late-01:2025-06-19": ("2025-06-18|late-01", "2025-06-19|late-01"),
        "c-00..c-01:2025-06-19": ("2025-06-16|c-00", "2025-06-19|c-01"),
        "c-02..c-03:2025-06-19": ("2025-06-16|c-02", "2025-06-19|c-03"),
        "c-04..c-04:2025-06-19": ("2025-06-16|c-04", "2025-06-19|c-04"),
    }


def test_scheduled_request_runs_as_one_ranged_run(instance, study_files, warehouse, query):
    [request] = evaluate_schedule(instance, study_files).run_requests
    job = defs.resolve_job_def("heart_rate_job")
    result = job.execute_in_process(
        instance=instance, tags=request.tags, resources={"study_files": study_files, "warehouse": warehouse}
    )
    assert result.success
    loaded = {e.partition for e in result.get_asset_materialization_events() if e.asset_key.path == ["heart_rate_rows"]}
    assert loaded == {ParticipantDayKey(dt.date(2025, 6, d), p).key for d in (16, 17, 18, 19) for p in ("syn-01", "land-01")}
    [(days,)] = query("SELECT count(DISTINCT (ts AT TIME ZONE 'America/New_York')::date) FROM heart_rate")
    assert days == 4


def test_sensor_registers_new_roster_rows_and_reports_bad_ones(study_files):
    roster_path = Path(study_files.roster_path)
    write_roster(roster_path, [SYNTHETIC])
    with roster_path.open("a") as handle:
        handle.write("bad id!,1,UTC,2025-01-01,synthetic,typical\n")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"study_files": study_files})
        result = participant_roster_sensor(context)
        [request] = result.dynamic_partitions_requests
        assert list(request.partition_keys) == ["syn-01"]
        instance.add_dynamic_partitions("participant", list(request.partition_keys))

        write_roster(roster_path, [SYNTHETIC, LANDING])
        result = participant_roster_sensor(dg.build_sensor_context(instance=instance, resources={"study_files": study_files}))
        assert list(result.dynamic_partitions_requests[0].partition_keys) == ["land-01"]
        instance.add_dynamic_partitions("participant", ["land-01"])

        with roster_path.open("a") as handle:
            handle.write("p2,1,Not/AZone,2025-01-01,synthetic,typical\n")
        skip = participant_roster_sensor(dg.build_sensor_context(instance=instance, resources={"study_files": study_files}))
        assert isinstance(skip, dg.SkipReason)
        assert "roster unchanged (2 participants)" in skip.skip_message
        assert "timezone 'Not/AZone' is not an IANA timezone" in skip.skip_message
