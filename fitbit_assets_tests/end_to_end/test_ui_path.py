"""The Dagster UI path (issue 12): runs launched over GraphQL, executed by run workers, read back as the UI does.

One instance, code location and daemon for the whole module (~10 s to start); two synthetic participants and
few days. The launchpad run, the backfill and the schedule tick load different days, so the tests do not
depend on each other's order.
"""

import datetime as dt

import pytest

from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import (
    DAYS_PER_BACKFILL_RUN,
    PARTICIPANTS_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    ParticipantDayKey,
)
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets_tests.support.adherence_fixtures import all_worn, drop_day
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets_tests.support.database import create_database
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC
from fitbit_assets.devtools.ui_path import open_ui_path

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
# A landing participant joins the roster last (re-execution tests, at the end): its days fail until their files land.
REEXECUTION_DAYS = [ParticipantDayKey(dt.date(2025, 6, 24) + dt.timedelta(days=i), LANDING.participant_id) for i in range(3)]
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
    for participant in (*COHORT, LANDING):
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
    """For every check of pipeline_job: the days of ``keys`` not shown as passed or failed in the UI."""
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
    # Dagster 1.13 follows the job's single-run backfill policy: one run over the days' range, for the roster.
    days = sorted({key.local_date.isoformat() for key in JOB_BACKFILL_DAYS})
    assert [(run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) for run in runs] == [(days[0], days[-1])]
    assert PARTICIPANTS_TAG not in runs[0].tags
    assert rows_per_day(warehouse_dsn_ui, JOB_BACKFILL_DAYS) == expected_rows(JOB_BACKFILL_DAYS)
    assert unreported_checks(ui, JOB_BACKFILL_DAYS) == {}


def test_what_the_launch_dialogs_read_for_our_assets(ui):
    """Issue 23 point 4: the texts the UI builds its dialogs from, as GraphQL gives them to it.

    The partitions label is Dagster's ("Daily, starting <date> UTC."), so each asset's and the job's description
    says the days are the participants' own. Every asset backfills in runs of at most 15 days: a one-asset dialog
    reads "Backfills in multiple runs, with a maximum of 15 partitions per run" (true: the 3-day asset backfill above
    is one run, the 16-day one below two). A dialog over several assets says
    "varying backfill policies" whatever they are (the UI compares the policy objects by identity);
    docs/dagster-ui.md and the job's description say so.
    The asset graph's Materialize picks the first job the assets share, Dagster's hidden asset job: an asset
    backfill; the job page's is a job backfill. Both are one run (tests above).
    """
    from fitbit_assets.lib.partitions import PARTITION_MEANING

    study_start = min(p.enrolled_on for p in COHORT)  # the code location's: its roster's first enrolment
    job_description, assets = ui.asset_labels()
    assert "each participant's own calendar day" in job_description
    # Beside the job page's "Materialize all", whose dialog says "varying backfill policies".
    assert f"the same backfill policy, runs of at most {DAYS_PER_BACKFILL_RUN} days" in job_description
    assert assets and set(assets) == set(ui.job_assets())
    for asset, labels in assets.items():
        assert labels["partitionDefinition"]["description"] == f"Daily, starting {study_start.isoformat()} UTC.", asset
        assert labels["description"].endswith(PARTITION_MEANING), asset
        assert labels["backfillPolicy"] == {
            "policyType": "MULTI_RUN",
            "description": f"Backfills in multiple runs, with a maximum of {DAYS_PER_BACKFILL_RUN} partitions per run",
        }, asset
        assert labels["jobNames"][0] == "__ASSET_JOB" and "pipeline_job" in labels["jobNames"], asset


def test_a_ranged_launchpad_run_loads_every_day_of_its_range(ui, range_run, warehouse_dsn_ui):
    assert range_run.status == "SUCCESS"
    assert rows_per_day(warehouse_dsn_ui, RANGE_RUN_DAYS) == expected_rows(RANGE_RUN_DAYS)
    assert unreported_checks(ui, RANGE_RUN_DAYS) == {}


def test_the_daily_tick_loads_yesterday_and_three_trailing_days_of_every_roster_participant(tick_runs, warehouse_dsn_ui):
    assert tick_runs and all(run.status == "SUCCESS" for run in tick_runs), [(r.run_id, r.status) for r in tick_runs]
    assert all(run.tags["dagster/schedule_name"] == "daily_pipeline_schedule" for run in tick_runs)
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


# ------------------------------------------------------------------------------------------- re-execution
# The run page's Re-execute menu on a run that failed: land-01's three days before their heart-rate files landed.


@pytest.fixture(scope="module")
def reexecutions(ui, warehouse_dsn_ui):
    """As a data engineer does: the failed run re-executed from failure while the files are still missing, again from
    failure once they landed, then all steps of the first run. A failed run is first re-executed once by the daemon
    (``run_retries`` of dagster.yaml): each step waits for those retries too. Each run by name:
    (RunTiming, RunOutcome, its automatic retries as (RunTiming, RunOutcome), the warehouse's rows of the days right
    after it); and the rows of each day's file."""
    ui.set_roster([*COHORT, LANDING])
    first, last = REEXECUTION_DAYS[0].local_date, REEXECUTION_DAYS[-1].local_date
    study_files = StudyFilesResource(landing_dir=str(ui.state_dir / "landing"))
    files = {}

    def finished(run_id: str) -> tuple:
        [run] = ui.wait_for_runs([run_id], timeout_s=RUN_TIMEOUT_S)
        retries = [(retry, ui.run_outcome(retry.run_id)) for retry in ui.wait_for_retries(run, RUN_TIMEOUT_S)]
        return run, ui.run_outcome(run_id), retries, rows_per_day(warehouse_dsn_ui, REEXECUTION_DAYS)

    runs = {"failed": finished(ui.launch_range_run(first, last, [LANDING.participant_id]))}
    runs["from_failure_still_missing"] = finished(ui.reexecute(runs["failed"][0].run_id, "FROM_FAILURE"))
    files.update({str(key): drop_day(study_files, LANDING, key.local_date, all_worn) for key in REEXECUTION_DAYS})
    runs["from_failure_landed"] = finished(ui.reexecute(runs["from_failure_still_missing"][0].run_id, "FROM_FAILURE"))
    runs["all_steps"] = finished(ui.reexecute(runs["failed"][0].run_id, "ALL_STEPS"))
    return runs, {key: len(path.read_text().splitlines()) - 1 for key, path in files.items()}


NOTHING_LOADED = {str(key): 0 for key in REEXECUTION_DAYS}


def fails_naming_each_day(run, outcome) -> bool:
    named = outcome.step_failures.get("raw_heart_rate_csv", "")
    return run.status == "FAILURE" and all(str(key) in named for key in REEXECUTION_DAYS) and (
        "heart_rate_rows" not in outcome.materializations)


def test_a_run_of_days_whose_files_have_not_landed_fails_naming_each_day_and_so_does_its_automatic_retry(reexecutions):
    run, outcome, retries, rows = reexecutions[0]["failed"]
    assert fails_naming_each_day(run, outcome), outcome.step_failures
    [(retry, retry_outcome)] = retries  # run_retries: max_retries 1
    assert fails_naming_each_day(retry, retry_outcome), retry_outcome.step_failures
    assert rows == NOTHING_LOADED


def test_re_execution_from_failure_keeps_the_days_and_participants_and_fails_again_naming_the_missing_days(reexecutions):
    failed, *_ = reexecutions[0]["failed"]
    run, outcome, retries, rows = reexecutions[0]["from_failure_still_missing"]
    for tag in (RANGE_START_TAG, RANGE_END_TAG, PARTICIPANTS_TAG):
        assert run.tags[tag] == failed.tags[tag]
    assert fails_naming_each_day(run, outcome), outcome.step_failures
    assert all(fails_naming_each_day(retry, retry_outcome) for retry, retry_outcome in retries)
    assert rows == NOTHING_LOADED


def test_re_execution_from_failure_once_the_files_landed_loads_every_day(ui, reexecutions):
    runs, file_rows = reexecutions
    run, outcome, retries, rows = runs["from_failure_landed"]
    assert run.status == "SUCCESS" and outcome.step_failures == {} and retries == []
    assert rows == file_rows
    days = sorted(key.local_date.isoformat() for key in REEXECUTION_DAYS)
    # Only the failed step and those after it ran; each of them materialized every day, with that day's values.
    assert "raw_heart_rate_csv" in outcome.materializations
    assert {asset: sorted(by_day) for asset, by_day in outcome.materializations.items()} == {
        asset: days for asset in outcome.materializations
    }
    loaded = outcome.materializations["heart_rate_rows"]
    assert {day: (values["participants_loaded"], values["rows_inserted"]) for day, values in loaded.items()} == {
        key.local_date.isoformat(): (1, file_rows[str(key)]) for key in REEXECUTION_DAYS
    }
    assert unreported_checks(ui, REEXECUTION_DAYS) == {}


def test_re_execution_of_all_steps_materializes_every_asset_on_every_day_and_reloads_nothing(ui, reexecutions):
    runs, file_rows = reexecutions
    run, outcome, retries, rows = runs["all_steps"]
    assert run.status == "SUCCESS" and outcome.step_failures == {} and retries == []
    days = sorted(key.local_date.isoformat() for key in REEXECUTION_DAYS)
    assert {asset: sorted(by_day) for asset, by_day in outcome.materializations.items()} == {
        asset: days for asset in ui.job_assets()
    }
    unchanged = outcome.materializations["heart_rate_rows"]
    assert {day: (values["participants_unchanged"], values["rows_inserted"]) for day, values in unchanged.items()} == {
        day: (1, 0) for day in days
    }
    assert rows == file_rows
