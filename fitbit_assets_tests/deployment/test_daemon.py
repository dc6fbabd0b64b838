"""The project's daemon entry point (fitbit_assets/daemon.py): Dagster's daemons, the backfill one on a short loop."""

import datetime as dt
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.controller import create_daemons_from_instance
from dagster._daemon.daemon import BackfillDaemon, SpanMarker

from fitbit_assets.daemon import BACKFILL_INTERVAL_SECONDS, PacedBackfillDaemon, daemons_with_backfill_interval
from fitbit_assets.domain.roster import write_roster
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, RANGE_END_TAG, RANGE_START_TAG
from fitbit_assets_tests.support.study import SYNTHETIC

QUEUED = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}}


def test_the_daemons_are_dagsters_own_with_the_backfill_daemon_paced():
    with dg.instance_for_test(overrides=QUEUED) as instance:
        stock = create_daemons_from_instance(instance)
        ours = daemons_with_backfill_interval(instance, BACKFILL_INTERVAL_SECONDS)
        assert [d.daemon_type() for d in ours] == [d.daemon_type() for d in stock]
        assert BackfillDaemon.daemon_type() in [d.daemon_type() for d in ours]
        for daemon in ours:
            if daemon.daemon_type() == BackfillDaemon.daemon_type():
                # Same daemon type: the UI's daemon status page and the heartbeats see "BACKFILL" as before.
                assert isinstance(daemon, PacedBackfillDaemon)
                assert daemon.interval_seconds == BACKFILL_INTERVAL_SECONDS
            else:
                assert type(daemon) in {type(d) for d in stock}
        for daemon in [*stock, *ours]:
            daemon.__exit__(None, None, None)  # their thread pools


@pytest.fixture
def project_state(tmp_path, monkeypatch):
    monkeypatch.setenv("FITBIT_STATE_DIR", str(tmp_path))
    write_roster(tmp_path / "roster.csv", [SYNTHETIC])
    return tmp_path


def test_one_loop_of_the_paced_daemon_submits_a_ui_backfill_as_dagster_does(project_state):
    """A 7-day asset backfill as the UI stores it; the first loop queues its one ranged run (no queue daemon here,
    so it stays queued: what the run does is test_backfill_daemon.py's)."""
    days = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(7)]
    with dg.instance_for_test(overrides=QUEUED) as instance:
        target = ModuleTarget(module_name="fitbit_assets.definitions", attribute=None,
                              working_directory=str(Path(__file__).resolve().parents[2]), location_name="fitbit_assets")
        with create_test_daemon_workspace_context(target, instance) as workspace:
            backfill = PartitionBackfill.from_asset_partitions(
                backfill_id="sevenday", asset_graph=workspace.create_request_context().asset_graph,
                partition_names=[d.isoformat() for d in days],
                asset_selection=[dg.AssetKey("raw_heart_rate_csv"), dg.AssetKey("validated_heart_rate")],
                backfill_timestamp=time.time(), tags={PARTICIPANTS_TAG: SYNTHETIC.participant_id},
                dynamic_partitions_store=instance, all_partitions=False, title=None, description=None,
                run_config=None,
            )
            instance.add_backfill(backfill)
            daemon = PacedBackfillDaemon(instance.get_backfill_settings(), BACKFILL_INTERVAL_SECONDS)
            with daemon:
                loop = daemon.core_loop(workspace, threading.Event())
                for marker in loop:  # up to the end of the first loop, before its wait
                    if marker is SpanMarker.END_SPAN:
                        break
                loop.close()
            [run] = instance.get_runs()
    assert run.status == DagsterRunStatus.QUEUED
    assert run.tags["dagster/backfill"] == "sevenday"
    assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == (days[0].isoformat(), days[-1].isoformat())
    assert run.tags[PARTICIPANTS_TAG] == SYNTHETIC.participant_id
