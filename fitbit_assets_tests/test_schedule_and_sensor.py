import datetime as dt
from pathlib import Path

import dagster as dg

from fitbit_assets.definitions import defs
from fitbit_assets.partitions import ParticipantDayKey
from fitbit_assets.roster import Participant, write_roster
from fitbit_assets.schedules import daily_heart_rate_schedule
from fitbit_assets.sensors import participant_roster_sensor
from fitbit_assets_tests.conftest import LANDING, SYNTHETIC

TICK = dt.datetime(2025, 6, 20, 12, 30, tzinfo=dt.timezone.utc)


def evaluate_schedule(instance, study_files, when=TICK):
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"study_files": study_files}
    )
    return daily_heart_rate_schedule.evaluate_tick(context)


def test_tick_requests_yesterday_and_trailing_window_per_participant(instance, study_files):
    result = evaluate_schedule(instance, study_files)
    requests = {r.run_key: r.tags for r in result.run_requests}
    assert set(requests) == {"syn-01:2025-06-19", "land-01:2025-06-19"}
    for participant in (SYNTHETIC, LANDING):
        tags = requests[f"{participant.participant_id}:2025-06-19"]
        assert tags["dagster/asset_partition_range_start"] == f"2025-06-16|{participant.participant_id}"
        assert tags["dagster/asset_partition_range_end"] == f"2025-06-19|{participant.participant_id}"


def test_tick_starts_at_enrolment_and_skips_unenrolled_or_removed(instance, study_files):
    late = Participant("late-01", 3, "Asia/Tokyo", dt.date(2025, 6, 18), "synthetic")
    future = Participant("future-01", 4, "UTC", dt.date(2025, 7, 1), "synthetic")
    write_roster(Path(study_files.roster_path), [SYNTHETIC, late, future])
    instance.add_dynamic_partitions("participant", ["late-01", "future-01"])  # land-01 is no longer in the roster
    result = evaluate_schedule(instance, study_files)
    ranges = {
        r.run_key: (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in result.run_requests
    }
    assert ranges == {
        "syn-01:2025-06-19": ("2025-06-16|syn-01", "2025-06-19|syn-01"),
        "late-01:2025-06-19": ("2025-06-18|late-01", "2025-06-19|late-01"),
    }


def test_scheduled_request_runs_as_one_ranged_run(instance, study_files, warehouse, query):
    [request] = [r for r in evaluate_schedule(instance, study_files).run_requests if r.run_key.startswith("syn-01")]
    job = defs.resolve_job_def("heart_rate_job")
    result = job.execute_in_process(
        instance=instance, tags=request.tags, resources={"study_files": study_files, "warehouse": warehouse}
    )
    assert result.success
    loaded = {e.partition for e in result.get_asset_materialization_events() if e.asset_key.path == ["heart_rate_rows"]}
    assert loaded == {ParticipantDayKey(dt.date(2025, 6, d), "syn-01").key for d in (16, 17, 18, 19)}
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
