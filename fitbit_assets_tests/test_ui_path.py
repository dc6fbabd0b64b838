"""The Dagster UI path (issue 12): runs launched over GraphQL, executed by run workers, read back as the UI does.

One instance, code location and daemon for the whole module (~10 s to start); two synthetic participants and
few days. The launchpad run, the backfill and the schedule tick load different days, so the tests do not
depend on each other's order.
"""

import datetime as dt

import pytest

from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import DAYS_PER_BACKFILL_RUN, PARTICIPANTS_TAG, ParticipantDayKey
from fitbit_assets_tests.conftest import SYNTHETIC, create_database, fetch_all
from fitbit_assets_tests.ui_path import open_ui_path

SECOND = Participant("syn-02", 12, "Europe/Berlin", dt.date(2025, 1, 1), "synthetic")
COHORT = [SYNTHETIC, SECOND]
LAUNCHPAD_DAY = ParticipantDayKey(dt.date(2025, 6, 1), SYNTHETIC.participant_id)
BACKFILL_DAYS = [ParticipantDayKey(dt.date(2025, 6, 10) + dt.timedelta(days=i), SYNTHETIC.participant_id) for i in range(3)]
# The job page's backfill and a ranged launchpad run, each of both participants (no participant tag: the roster).
JOB_BACKFILL_DAYS = [ParticipantDayKey(dt.date(2025, 6, 4) + dt.timedelta(days=i), p.participant_id)
                     for p in COHORT for i in range(3)]
RANGE_RUN_DAYS = [ParticipantDayKey(dt.date(2025, 6, 13) + dt.timedelta(days=i), p.participant_id)
                  for p in COHORT for i in range(2)]
TICK = dt.datetime(2025, 6, 21, 12, 30, tzinfo=dt.timezone.utc)  # yesterday 06-20 and the 3 days before it
TICK_DAYS = [ParticipantDayKey(dt.date(2025, 6, 17) + dt.timedelta(days=i), p.participant_id) for p in COHORT for i in range(4)]
RUN_TIMEOUT_S = 600  # a multiprocess-executor run of 4 days took ~3 min on a loaded 2-core machine


@pytest.fixture(scope="module")
def warehouse_dsn_ui(embedded_pg):
    return embedded_pg.dsn(create_database(embedded_pg, "ui"))


@pytest.fixture(scope="module")
def ui(tmp_path_factory, warehouse_dsn_ui):
    with open_ui_path(tmp_path_factory.mktemp("ui_state"), warehouse_dsn_ui, COHORT) as ui:
        yield ui


def rows_per_day(dsn: str, keys: list[ParticipantDayKey]) -> dict[str, int]:
    """heart_rate rows of each participant-day (local day in the participant's timezone)."""
    loaded = {}
    for participant in COHORT:
        rows = fetch_all(
            dsn,
            "SELECT (ts AT TIME ZONE %s)::date, count(*) FROM heart_rate WHERE participant_id = %s GROUP BY 1",
            (participant.timezone, participant.participant_id),
        )
        loaded.update({str(ParticipantDayKey(day, participant.participant_id)): count for day, count in rows})
    return {str(key): loaded.get(str(key), 0) for key in keys}


def expected_rows(keys: list[ParticipantDayKey]) -> dict[str, int]:
    by_id = {p.participant_id: p for p in COHORT}
    return {str(key): len(generate_heart_rate_day(by_id[key.participant_id], key.local_date)) for key in keys}


def unreported_checks(ui, keys: list[ParticipantDayKey]) -> dict[str, dict[str, str]]:
    """For every check of heart_rate_job: the days of ``keys`` not shown as passed or failed in the UI."""
    missing = {}
    days = sorted({key.local_date.isoformat() for key in keys})
    for asset, check_name in ui.job_checks():
        statuses = ui.check_statuses(asset, check_name)
        gaps = {day: statuses.get(day, "MISSING") for day in days}
        gaps = {day: status for day, status in gaps.items() if status not in ("SUCCEEDED", "FAILED")}
        if gaps:
            missing[f"{asset}:{check_name}"] = gaps
    return missing


@pytest.fixture(scope="module")
def launchpad_run(ui):
    run_id = ui.launch_partition_run(LAUNCHPAD_DAY.local_date, [LAUNCHPAD_DAY.participant_id])
    [run] = ui.wait_for_runs([run_id], timeout_s=RUN_TIMEOUT_S)
    return run


@pytest.fixture(scope="module")
def backfill(ui):
    backfill_id = ui.launch_asset_backfill(
        [key.local_date for key in BACKFILL_DAYS], ui.job_assets(), [SYNTHETIC.participant_id]
    )
    return ui.wait_for_backfill(backfill_id, timeout_s=RUN_TIMEOUT_S)


@pytest.fixture(scope="module")
def job_backfill(ui):
    backfill_id = ui.launch_job_backfill(sorted({key.local_date for key in JOB_BACKFILL_DAYS}))
    return ui.wait_for_backfill(backfill_id, timeout_s=RUN_TIMEOUT_S)


@pytest.fixture(scope="module")
def range_run(ui):
    run_id = ui.launch_range_run(RANGE_RUN_DAYS[0].local_date, RANGE_RUN_DAYS[-1].local_date)
    [run] = ui.wait_for_runs([run_id], timeout_s=RUN_TIMEOUT_S)
    return run


@pytest.fixture(scope="module")
def tick_runs(ui):
    run_ids = ui.schedule_tick(TICK)
    return ui.wait_for_runs(run_ids, timeout_s=2 * RUN_TIMEOUT_S)


def test_a_partition_launched_from_the_launchpad_runs_in_a_run_worker_and_loads_its_day(launchpad_run, warehouse_dsn_ui):
    assert launchpad_run.status == "SUCCESS"
    assert launchpad_run.tags["dagster/partition"] == LAUNCHPAD_DAY.local_date.isoformat()
    assert launchpad_run.started is not None and launchpad_run.ended >= launchpad_run.started
    assert rows_per_day(warehouse_dsn_ui, [LAUNCHPAD_DAY]) == expected_rows([LAUNCHPAD_DAY])
    # Only the participant the launch named.
    other = ParticipantDayKey(LAUNCHPAD_DAY.local_date, SECOND.participant_id)
    assert rows_per_day(warehouse_dsn_ui, [other]) == {str(other): 0}


def test_every_check_lists_the_launched_day_as_passed_or_failed(ui, launchpad_run):
    assert unreported_checks(ui, [LAUNCHPAD_DAY]) == {}


def test_an_asset_backfill_of_three_days_for_one_participant_is_one_run_and_loads_every_day(backfill, warehouse_dsn_ui):
    status, runs = backfill
    assert status == "COMPLETED_SUCCESS"
    assert [run.status for run in runs] == ["SUCCESS"]  # single-run backfill policy: one ranged run
    [run] = runs
    assert run.tags["dagster/asset_partition_range_start"] == BACKFILL_DAYS[0].local_date.isoformat()
    assert run.tags["dagster/asset_partition_range_end"] == BACKFILL_DAYS[-1].local_date.isoformat()
    assert run.tags[PARTICIPANTS_TAG] == SYNTHETIC.participant_id
    assert rows_per_day(warehouse_dsn_ui, BACKFILL_DAYS) == expected_rows(BACKFILL_DAYS)


def test_every_check_lists_each_backfilled_day_as_passed_or_failed(ui, backfill):
    assert unreported_checks(ui, BACKFILL_DAYS) == {}


def test_the_job_page_backfill_loads_every_day_it_reports(ui, job_backfill, warehouse_dsn_ui):
    status, runs = job_backfill
    assert status == "COMPLETED_SUCCESS" and runs and all(run.status == "SUCCESS" for run in runs)
    assert rows_per_day(warehouse_dsn_ui, JOB_BACKFILL_DAYS) == expected_rows(JOB_BACKFILL_DAYS)
    assert unreported_checks(ui, JOB_BACKFILL_DAYS) == {}


def test_a_ranged_launchpad_run_loads_every_day_of_its_range(ui, range_run, warehouse_dsn_ui):
    assert range_run.status == "SUCCESS"
    assert rows_per_day(warehouse_dsn_ui, RANGE_RUN_DAYS) == expected_rows(RANGE_RUN_DAYS)
    assert unreported_checks(ui, RANGE_RUN_DAYS) == {}


def test_the_daily_tick_loads_yesterday_and_three_trailing_days_of_every_roster_participant(tick_runs, warehouse_dsn_ui):
    assert tick_runs and all(run.status == "SUCCESS" for run in tick_runs), [(r.run_id, r.status) for r in tick_runs]
    assert all(run.tags["dagster/schedule_name"] == "daily_heart_rate_schedule" for run in tick_runs)
    assert rows_per_day(warehouse_dsn_ui, TICK_DAYS) == expected_rows(TICK_DAYS)


def test_every_check_lists_each_day_of_the_tick_as_passed_or_failed(ui, tick_runs):
    assert unreported_checks(ui, TICK_DAYS) == {}


def test_checkpointed_check_statuses_equal_a_rebuild_from_every_execution(ui, launchpad_run, backfill, tick_runs):
    """The instance's event log keeps each check's status as a checkpoint updated from newer events
    (warehouse/dagster_storage.py); after every run above, it equals Dagster's rebuild from scratch."""
    import dagster as dg
    from dagster._core.storage.asset_check_state import AssetCheckState, bulk_update_asset_check_state

    from fitbit_assets.lib.partitions import local_day_partitions

    keys = [(dg.AssetCheckKey(dg.AssetKey(asset.split("/")), name), local_day_partitions) for asset, name in ui.job_checks()]
    storage = ui.instance.event_log_storage
    checkpointed = storage.get_asset_check_state(keys)
    rebuilt = bulk_update_asset_check_state(ui.instance, keys, {key: AssetCheckState.empty() for key, _ in keys})
    assert storage.get_checkpointed_asset_check_state([key for key, _ in keys]) == checkpointed  # kept
    for key, _ in keys:
        assert {status: subset.value for status, subset in checkpointed[key].subsets.items()} == {
            status: subset.value for status, subset in rebuilt[key].subsets.items()
        }, key


# Longer than one backfill run: 2025-05-01 .. 05-16 of the first participant (no other test loads May).
LONG_BACKFILL_DAYS = [ParticipantDayKey(dt.date(2025, 5, 1) + dt.timedelta(days=i), SYNTHETIC.participant_id)
                      for i in range(DAYS_PER_BACKFILL_RUN + 1)]


def test_a_backfill_longer_than_a_run_is_runs_of_consecutive_days_that_load_every_day(ui, warehouse_dsn_ui):
    backfill_id = ui.launch_asset_backfill(
        [key.local_date for key in LONG_BACKFILL_DAYS], ui.job_assets(), [SYNTHETIC.participant_id]
    )
    status, runs = ui.wait_for_backfill(backfill_id, timeout_s=RUN_TIMEOUT_S)
    assert status == "COMPLETED_SUCCESS" and [run.status for run in runs] == ["SUCCESS", "SUCCESS"]
    ranges = sorted((run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"])
                    for run in runs)
    days = [key.local_date.isoformat() for key in LONG_BACKFILL_DAYS]
    assert ranges == [(days[0], days[DAYS_PER_BACKFILL_RUN - 1]), (days[-1], days[-1])]
    assert rows_per_day(warehouse_dsn_ui, LONG_BACKFILL_DAYS) == expected_rows(LONG_BACKFILL_DAYS)
    assert unreported_checks(ui, LONG_BACKFILL_DAYS) == {}
