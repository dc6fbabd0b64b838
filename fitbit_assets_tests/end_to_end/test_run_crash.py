"""A run worker killed with SIGKILL inside a step that holds a `warehouse` pool slot, on a real Dagster instance
(the project's local dagster.yaml) with `dagster-daemon run` and the default run launcher, as under `make dev`.

The killed run must end FAILURE, its slot must be freed, and a later run of the same participant-day must complete
with exactly the day's rows, without anyone touching the instance.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import psycopg2
import pytest
import yaml
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from fitbit_assets.domain.roster import write_roster
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, PARTITION_TAG
from fitbit_assets.warehouse.embedded_server import stop_server
from fitbit_assets_tests.support.study import SYNTHETIC

ROOT = Path(__file__).resolve().parents[2]
LOCAL_INSTANCE_YAML = ROOT / "dagster.yaml"
WORKSPACE_YAML = ROOT / "workspace.yaml"
DAY = dt.date(2025, 6, 3)
LOAD_ASSETS = ["raw_heart_rate_csv", "validated_heart_rate", "heart_rate_rows"]  # heart_rate_rows: pool "warehouse"
TIMEOUT_S = 240


def local_instance_config() -> dict:
    """The project's local instance, with the daemon's polling made fast enough for a test."""
    config = yaml.safe_load(LOCAL_INSTANCE_YAML.read_text())
    assert config["run_monitoring"]["enabled"] and config["run_monitoring"]["free_slots_after_run_end_seconds"]
    config["run_monitoring"]["poll_interval_seconds"] = 1
    # One slot: the killed run's is the only one, so a slot that is never freed blocks every later run.
    config["concurrency"]["pools"]["default_limit"] = 1
    return config


def wait_for(what: str, condition, timeout_s: float = TIMEOUT_S, interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def launch_from_the_ui(context, instance) -> str:
    """The UI's launchPipelineExecution for one participant-day: queued, then launched by the daemon."""
    run_tags = {PARTITION_TAG: DAY.isoformat(), PARTICIPANTS_TAG: SYNTHETIC.participant_id}
    result = execute_dagster_graphql(
        context,
        LAUNCH_PIPELINE_EXECUTION_MUTATION,
        {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": "fitbit_assets",
                    "repositoryName": "__repository__",
                    "pipelineName": "pipeline_job",
                    "assetSelection": [{"path": [name]} for name in LOAD_ASSETS],
                },
                "runConfigData": {},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
            }
        },
    )
    launched = result.data["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def run_worker_pid(instance, run_id) -> int | None:
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        if entry.message.startswith("Started process for run (pid: "):
            return int(entry.message.removeprefix("Started process for run (pid: ").rstrip(")."))
    return None


def backend_waiting_on_the_day_lock(dsn: str) -> bool:
    """A loader connection blocked on the participant-day's advisory lock, i.e. inside replace_rows."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fitbit_assets'"
                " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


@pytest.fixture
def dagster_home(tmp_path, monkeypatch, warehouse_dsn):
    """A DAGSTER_HOME with the local instance config; run workers get their state and warehouse from the env."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
    state = tmp_path / "state"
    state.mkdir()
    write_roster(state / "roster.csv", [SYNTHETIC])
    for name, value in {"DAGSTER_HOME": str(home), "FITBIT_STATE_DIR": str(state), "FITBIT_WAREHOUSE_DSN": warehouse_dsn}.items():
        monkeypatch.setenv(name, value)
    yield home
    stop_server(state / "pgdata")  # the instance's storage server outlives its processes by design


@pytest.fixture
def instance(dagster_home):
    """The instance, its storage created here first, before the daemon and the code server load it."""
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    instance.schedule_storage.all_instigator_state()
    instance.event_log_storage.get_concurrency_keys()
    yield instance
    instance.dispose()


@pytest.fixture
def daemon(instance, dagster_home, tmp_path):
    """`dagster-daemon run` on the project's workspace, in a process group of its own (it starts a code server)."""
    log = (tmp_path / "daemon.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(WORKSPACE_YAML)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    log.close()


def test_a_run_killed_inside_a_pooled_step_fails_and_later_runs_complete(instance, daemon, warehouse_dsn, query):
    # Hold the day's replace lock (the one replace_rows takes first) so the load stops inside heart_rate_rows with
    # its pool slot claimed, for as long as the test needs to kill it there.
    blocker = psycopg2.connect(warehouse_dsn)
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"heart_rate/{SYNTHETIC.participant_id}/{DAY}",))
    try:
        with define_out_of_process_context(str(WORKSPACE_YAML), None, instance) as context:
            killed_run = launch_from_the_ui(context, instance)
            wait_for("heart_rate_rows blocked inside its load", lambda: backend_waiting_on_the_day_lock(warehouse_dsn))
            holders = instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids
            assert holders == {killed_run}
            worker = psutil.Process(run_worker_pid(instance, killed_run))
            doomed = [worker, *worker.children(recursive=True)]  # with the multiprocess executor the step is a child
            for process in doomed:
                process.send_signal(signal.SIGKILL)
            killed_at = time.time()
            psutil.wait_procs(doomed, timeout=10)
            later_run = launch_from_the_ui(context, instance)
            blocker.rollback()  # the loads may proceed now; only the dead run's slot stands in the way

            wait_for("the killed run to fail", lambda: instance.get_run_by_id(killed_run).is_finished)
            assert instance.get_run_by_id(killed_run).status == DagsterRunStatus.FAILURE
            failed_at = instance.get_run_record_by_id(killed_run).end_time
            wait_for(
                "the killed run's pool slot to be freed",
                lambda: killed_run not in instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids,
            )
            freed_at = time.time()
            wait_for("every later run to finish", lambda: all(r.is_finished for r in instance.get_runs()))
            finished_at = time.time()
    finally:
        blocker.close()

    later_runs = [run for run in instance.get_runs() if run.run_id != killed_run]
    assert later_run in {run.run_id for run in later_runs}
    # The later run and run_retries' automatic retry of the killed run both loaded the same day.
    assert {run.status for run in later_runs} == {DagsterRunStatus.SUCCESS}, [(r.run_id, r.status) for r in later_runs]
    assert instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids == set()
    expected = len(generate_heart_rate_day(SYNTHETIC, DAY))
    assert query("SELECT count(*), count(DISTINCT ts) FROM heart_rate") == [(expected, expected)]
    print(
        f"SIGKILL -> run FAILURE {failed_at - killed_at:.2f} s, -> slot freed {freed_at - killed_at:.2f} s, "
        f"-> later runs done {finished_at - killed_at:.2f} s ({len(later_runs)} later runs)"
    )
