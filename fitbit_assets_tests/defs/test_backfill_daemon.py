"""A UI-style asset backfill through Dagster's own backfill daemon logic, on the pinned Dagster version.

A date range (the participants named by the backfill's fitbit/participants tag, here the only one in the roster)
becomes ONE run on the pinned version, which really loads every day.
"""

import datetime as dt
import logging
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.backfill import execute_backfill_iteration

from fitbit_assets.domain.roster import write_roster
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG
from fitbit_assets_tests.support.study import SYNTHETIC

ASSETS = [dg.AssetKey(name) for name in ("raw_heart_rate_csv", "validated_heart_rate", "heart_rate_rows")]


@pytest.fixture
def project_env(tmp_path, monkeypatch, warehouse_dsn):
    """Run workers are separate processes: they get their state and warehouse from the environment."""
    monkeypatch.setenv("FITBIT_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", warehouse_dsn)
    write_roster(tmp_path / "roster.csv", [SYNTHETIC])
    return tmp_path


def run_backfill_to_completion(workspace, instance, backfill_id, timeout_s=180):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        list(execute_backfill_iteration(workspace, logging.getLogger("test_backfill")))
        backfill = instance.get_backfill(backfill_id)
        runs = instance.get_runs()
        if backfill.status != BulkActionStatus.REQUESTED and all(r.is_finished for r in runs):
            return backfill, runs
        time.sleep(0.5)
    raise AssertionError(f"backfill {backfill_id} did not finish in {timeout_s}s")


def test_ui_backfill_of_ten_days_is_one_run(project_env, query):
    days = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(10)]
    # Launch runs directly (no queue daemon in the test), in their own processes as in production.
    coordinator = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
    with dg.instance_for_test(overrides={"run_coordinator": coordinator}) as instance:
        target = ModuleTarget(
            module_name="fitbit_assets.definitions",
            attribute=None,
            working_directory=str(Path(__file__).resolve().parents[2]),
            location_name="fitbit_assets",
        )
        with create_test_daemon_workspace_context(target, instance) as workspace:
            asset_graph = workspace.create_request_context().asset_graph
            backfill = PartitionBackfill.from_asset_partitions(
                backfill_id="tenday",
                asset_graph=asset_graph,
                partition_names=[d.isoformat() for d in days],
                asset_selection=ASSETS,
                backfill_timestamp=time.time(),
                tags={PARTICIPANTS_TAG: SYNTHETIC.participant_id},
                dynamic_partitions_store=instance,
                all_partitions=False,
                title=None,
                description=None,
                run_config=None,
            )
            instance.add_backfill(backfill)
            backfill, runs = run_backfill_to_completion(workspace, instance, "tenday")
    assert len(runs) == 1, [r.tags for r in runs]
    [run] = runs
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/asset_partition_range_start"] == days[0].isoformat()
    assert run.tags["dagster/asset_partition_range_end"] == days[-1].isoformat()
    assert run.tags[PARTICIPANTS_TAG] == SYNTHETIC.participant_id
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    expected = sum(len(generate_heart_rate_day(SYNTHETIC, d)) for d in days)
    assert query("SELECT count(*) FROM heart_rate") == [(expected,)]
