"""The Dagster UI path, driven and read the way the UI does it, for tests and benchmarks.

Users do not call ``execute_in_process``: they launch runs from the UI (GraphQL), the daemon launches queued
runs, backfills and schedule ticks, and every run executes in its own run worker (``dagster api execute_run``,
DefaultRunLauncher) with the job's executor. ``open_ui_path`` builds exactly that around a state folder, a
warehouse DSN and a roster:

- a real instance in a temporary DAGSTER_HOME with the repo's local ``dagster.yaml`` (run and pool concurrency,
  run retries) plus the QueuedRunCoordinator and DefaultRunLauncher that ``make dev`` uses;
- the code location ``fitbit_assets.definitions`` loaded in its own gRPC server process (as the webserver
  does), queried through Dagster's GraphQL schema in this process (``dagster_graphql.test.utils``), one
  request context per query like the webserver;
- a real daemon subprocess (``python -m fitbit_assets.daemon``: ``dagster-daemon run`` with the backfill daemon on a
  2 s loop, as ``make dev`` and compose run it) that dequeues runs, executes backfills and evaluates sensors.

Every launch and read is a GraphQL operation the UI sends (see the ``*_QUERY``/``*_MUTATION`` constants). The
one exception is the schedule tick: the daemon evaluates ticks against the wall clock, so the harness stops
the schedule in the instance (the daemon then never ticks it on its own) and runs the daemon's scheduler code
for one chosen tick time; its runs are queued and launched by the daemon like any scheduled run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, ScheduleInstigatorData, TickStatus
from dagster._core.storage.tags import AUTO_RETRY_RUN_ID_TAG, WILL_RETRY_TAG
from dagster._daemon import SchedulerDaemon  # noqa: F401 (loads the daemon package before the scheduler: they import each other)
from dagster._scheduler.scheduler import launch_scheduled_runs_for_schedule_iterator
from dagster._utils.error import SerializableErrorInfo
from dagster_graphql.test.utils import define_out_of_process_workspace, execute_dagster_graphql

from fitbit_assets.daemon import BACKFILL_INTERVAL_SECONDS
from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, local_day_partitions
from fitbit_assets.warehouse.embedded_server import stop_server

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "fitbit_assets"
REPOSITORY = "__repository__"  # the repository name Dagster gives a Definitions object
JOB = "pipeline_job"
SCHEDULE = "daily_pipeline_schedule"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
MULTIPROCESS_RUN_CONFIG = {"execution": {"config": {"multiprocess": {}}}}

DAEMON_HEALTH_QUERY = """
query DaemonHealth {
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } }
}
"""

JOB_ASSETS_QUERY = """
query JobAssets($pipeline: PipelineSelector!) {
  assetNodes(pipeline: $pipeline) {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } ... on Error { message } }
  }
}
"""

# What the launch dialogs read for each asset of the job (LaunchAssetChoosePartitionsDialog): the partitions label,
# the backfill policy's notice, the asset's description, and its jobs (the first in common picks the launch path).
ASSET_LABELS_QUERY = """
query AssetLabels($pipeline: PipelineSelector!) {
  assetNodes(pipeline: $pipeline) {
    assetKey { path }
    description
    jobNames
    partitionDefinition { description }
    backfillPolicy { policyType description }
  }
  pipelineOrError(params: $pipeline) { __typename ... on Pipeline { description } }
}
"""

CONFIG_VALID_QUERY = """
query ConfigValid($pipeline: PipelineSelector!, $runConfigData: RunConfigData) {
  isPipelineConfigValid(pipeline: $pipeline, mode: "default", runConfigData: $runConfigData) {
    __typename
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

LAUNCH_RUN_MUTATION = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

LAUNCH_BACKFILL_MUTATION = """
mutation LaunchBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { status endTimestamp error { message } }
    ... on Error { message }
  }
}
"""

RUNS_QUERY = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status creationTime startTime endTime tags { key value } } }
    ... on Error { message }
  }
}
"""

# The run's log view; the executor announces itself in an engine event.
RUN_LOG_QUERY = """
query RunLog($runId: ID!, $cursor: String) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      eventConnection(afterCursor: $cursor, limit: 2000) { events { __typename ... on EngineEvent { message } } cursor hasMore }
    }
    ... on Error { message }
  }
}
"""
EXECUTORS = {"Executing steps in process": "in process", "Executing steps using multiprocess executor": "multiprocess"}

# The run's log filtered as its "Errors" and "Materializations" views: why steps failed, which days each asset
# materialized and the day's own metadata.
RUN_OUTCOME_QUERY = """
query RunOutcome($runId: ID!, $cursor: String) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      eventConnection(afterCursor: $cursor, limit: 2000) {
        events {
          __typename
          ... on ExecutionStepFailureEvent { stepKey error { message } }
          ... on MaterializationEvent {
            assetKey { path }
            partition
            metadataEntries { label ... on IntMetadataEntry { intValue } }
          }
        }
        cursor hasMore
      }
    }
    ... on Error { message }
  }
}
"""

# The run page's "Re-execute" menu: all steps, from failure (failed and not-run steps), from asset failure.
REEXECUTE_MUTATION = """
mutation Reexecute($reexecutionParams: ReexecutionParams!) {
  launchPipelineReexecution(reexecutionParams: $reexecutionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

TERMINATE_MUTATION = """
mutation Terminate($runIds: [String!]!) {
  terminateRuns(runIds: $runIds) { __typename }
}
"""

CANCEL_BACKFILL_MUTATION = """
mutation CancelBackfill($backfillId: String!) {
  cancelPartitionBackfill(backfillId: $backfillId) { __typename ... on Error { message } }
}
"""

# The check's "Partitions" tab: statuses of the daily partitions, run-length encoded as ranges of days.
CHECK_STATUS_QUERY = """
query CheckPartitions($assetKey: AssetKeyInput!, $checkName: String!) {
  assetNodes(assetKeys: [$assetKey]) {
    assetCheckOrError(checkName: $checkName) {
      __typename
      ... on AssetCheck {
        partitionStatuses {
          __typename
          ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
        }
      }
      ... on Error { message }
    }
  }
}
"""


class UiPathError(AssertionError):
    """The UI path answered with an error or did not finish in time (a test failure, with Dagster's message)."""


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run's log shows: each failed step's error, each asset's materialized days and their metadata."""

    step_failures: dict[str, str]  # step key -> error message
    materializations: dict[str, dict[str, dict[str, int]]]  # asset -> local day -> the day's integer metadata


@dataclass(frozen=True)
class RunTiming:
    run_id: str
    status: str
    created: float  # epoch seconds (run storage)
    started: float | None
    ended: float | None
    tags: dict[str, str]

    @property
    def duration(self) -> float | None:
        """Run worker start to end, as the UI's run list shows it."""
        return self.ended - self.started if self.started and self.ended else None


def instance_yaml() -> dict:
    """The repo's local instance settings plus what ``make dev`` runs with."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["run_launcher"] = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
    return config


@contextmanager
def project_environment(values: dict[str, str]) -> Iterator[None]:
    """The code server, run workers and daemon are child processes: they read the project's settings from here."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class UiPath:
    """One Dagster instance + code location + daemon; methods are the UI's actions and views."""

    def __init__(self, process_context, dagster_home: Path, state_dir: Path):
        self.process_context = process_context
        self.instance: dg.DagsterInstance = process_context.instance
        self.dagster_home = dagster_home
        self.state_dir = state_dir
        self.daemon: subprocess.Popen | None = None
        self.repository_selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        self.job_selector = {**self.repository_selector, "pipelineName": JOB}

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        # One entered request context per query, as the webserver does per HTTP request: entering it is what
        # lets resolvers load the dynamic participant partitions (check partition statuses fail without it).
        with self.process_context.create_request_context() as request_context:
            return execute_dagster_graphql(request_context, query, variables).data

    # --- setup -------------------------------------------------------------------------------------------

    def wait_for_daemon(self, timeout_s: float = 120) -> None:
        """Until every daemon the instance requires has sent a heartbeat (the UI's "Daemons" page all green)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise UiPathError(f"dagster-daemon exited with {self.daemon.returncode}: {self.daemon_log()}")
            statuses = self.graphql(DAEMON_HEALTH_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
            if all(s["healthy"] for s in statuses if s["required"]):
                return
            time.sleep(1)
        raise UiPathError(f"daemons not healthy after {timeout_s}s: {statuses}; log: {self.daemon_log()}")

    def daemon_log(self) -> str:
        return (self.dagster_home / "daemon.log").read_text()[-4000:]

    def stop_schedule(self) -> None:
        """Turn the daily schedule off (the toggle on the schedule's page), so only ``schedule_tick`` ticks it."""
        schedule = self._remote_schedule()
        self.instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)

    def set_roster(self, roster: Sequence[Participant]) -> None:
        """The study team editing the roster: runs started after this read it (no reload, no deploy)."""
        write_roster(self.state_dir / "roster.csv", list(roster))

    # --- what the job contains -----------------------------------------------------------------------------

    def job_assets(self) -> list[str]:
        """Every asset of pipeline_job, in the order the UI lists them."""
        nodes = self.graphql(JOB_ASSETS_QUERY, {"pipeline": self.job_selector})["assetNodes"]
        return ["/".join(node["assetKey"]["path"]) for node in nodes]

    def job_checks(self) -> list[tuple[str, str]]:
        """(asset, check name) of every asset check of pipeline_job's assets."""
        nodes = self.graphql(JOB_ASSETS_QUERY, {"pipeline": self.job_selector})["assetNodes"]
        return [
            ("/".join(node["assetKey"]["path"]), check["name"])
            for node in nodes
            for check in node["assetChecksOrError"].get("checks", [])
        ]

    def asset_labels(self) -> tuple[str, dict[str, dict]]:
        """The job page's description, and per asset of the job what the UI's launch dialogs show for it."""
        data = self.graphql(ASSET_LABELS_QUERY, {"pipeline": self.job_selector})
        assets = {"/".join(node["assetKey"]["path"]): node for node in data["assetNodes"]}
        return data["pipelineOrError"]["description"], assets

    def config_is_valid(self, run_config: dict) -> bool:
        """What the launchpad's config editor reports for ``run_config`` on pipeline_job."""
        result = self.graphql(CONFIG_VALID_QUERY, {"pipeline": self.job_selector, "runConfigData": run_config})
        return result["isPipelineConfigValid"]["__typename"] == "PipelineConfigValidationValid"

    # --- launching ---------------------------------------------------------------------------------------

    def launch_partition_run(
        self, local_date: dt.date, participants: Sequence[str] = (), run_config: dict | None = None
    ) -> str:
        """The job's launchpad with one day selected (partition tag), for ``participants`` (a run tag added in the
        launchpad's tag editor) or, without them, the whole roster."""
        tags = [{"key": "dagster/partition", "value": local_date.isoformat()}]
        tags += [{"key": PARTICIPANTS_TAG, "value": ",".join(participants)}] if participants else []
        return self._launch_run(tags, run_config, f"{local_date}")

    def launch_range_run(
        self, first: dt.date, last: dt.date, participants: Sequence[str] = (), run_config: dict | None = None
    ) -> str:
        """The launchpad with a partition range (range tags), as the job page's ranged launch sends it."""
        tags = [{"key": "dagster/asset_partition_range_start", "value": first.isoformat()},
                {"key": "dagster/asset_partition_range_end", "value": last.isoformat()}]
        tags += [{"key": PARTICIPANTS_TAG, "value": ",".join(participants)}] if participants else []
        return self._launch_run(tags, run_config, f"{first} .. {last}")

    def _launch_run(self, tags: list[dict], run_config: dict | None, what: str) -> str:
        params = {
            "selector": self.job_selector,
            "runConfigData": run_config or {},
            "mode": "default",
            "executionMetadata": {"tags": tags},
        }
        result = self.graphql(LAUNCH_RUN_MUTATION, {"executionParams": params})["launchPipelineExecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise UiPathError(f"launching {what}: {result}")
        return result["run"]["runId"]

    def reexecute(self, run_id: str, strategy: str) -> str:
        """The run page's "Re-execute" menu on ``run_id``: ``ALL_STEPS``, ``FROM_FAILURE`` or ``FROM_ASSET_FAILURE``
        (the new run keeps the parent's tags: its days and participants)."""
        params = {"parentRunId": run_id, "strategy": strategy}
        result = self.graphql(REEXECUTE_MUTATION, {"reexecutionParams": params})["launchPipelineReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise UiPathError(f"re-executing run {run_id} ({strategy}): {result}")
        return result["run"]["runId"]

    def launch_asset_backfill(
        self, dates: Sequence[dt.date], assets: Sequence[str], participants: Sequence[str] = ()
    ) -> str:
        """"Materialize" on the asset graph with ``assets`` selected, ``dates`` chosen in the partition dialog and
        the participants as a backfill tag (none: the whole roster)."""
        params = {
            "assetSelection": [{"path": asset.split("/")} for asset in assets],
            "partitionNames": [day.isoformat() for day in dates],
            "tags": [{"key": PARTICIPANTS_TAG, "value": ",".join(participants)}] if participants else [],
        }
        return self._launch_backfill(params, f"{len(dates)} day(s) of {len(assets)} asset(s)")

    def launch_job_backfill(self, dates: Sequence[dt.date], participants: Sequence[str] = ()) -> str:
        """Jobs > pipeline_job > Partitions > "Launch backfill": the job selector, not an asset selection."""
        params = {
            "selector": {"repositorySelector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY},
                         "partitionSetName": f"{JOB}_partition_set"},
            "partitionNames": [day.isoformat() for day in dates],
            "tags": [{"key": PARTICIPANTS_TAG, "value": ",".join(participants)}] if participants else [],
        }
        return self._launch_backfill(params, f"{len(dates)} day(s) of {JOB}")

    def _launch_backfill(self, params: dict, what: str) -> str:
        result = self.graphql(LAUNCH_BACKFILL_MUTATION, {"backfillParams": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise UiPathError(f"launching a backfill of {what}: {result}")
        return result["backfillId"]

    def schedule_tick(self, tick_time: dt.datetime) -> list[str]:
        """The daemon's scheduler evaluating the daily schedule's tick at ``tick_time``; returns its runs' ids.

        Same code as a daemon tick (tick record, run keys, schedule tags, runs submitted to the queue); only the
        clock is chosen. The stored schedule state stays STOPPED (``stop_schedule``): the passed state's last
        iteration is recent, so the scheduler does not write it back.
        """
        schedule = self._remote_schedule()
        stamp = tick_time.timestamp()
        state = InstigatorState(
            schedule.get_remote_origin(),
            InstigatorType.SCHEDULE,
            InstigatorStatus.RUNNING,
            ScheduleInstigatorData(schedule.cron_schedule, start_timestamp=stamp - 1, last_iteration_timestamp=stamp - 1),
        )
        for item in launch_scheduled_runs_for_schedule_iterator(
            self.process_context,
            logging.getLogger("ui_path.scheduler"),
            schedule,
            state,
            end_datetime_utc=tick_time + dt.timedelta(seconds=1),
            max_catchup_runs=1,
            max_tick_retries=0,
            tick_retention_settings=self.instance.get_tick_retention_settings(InstigatorType.SCHEDULE),
            schedule_debug_crash_flags=None,
            submit_threadpool_executor=None,
            in_memory_last_iteration_timestamp=None,
        ):
            if isinstance(item, SerializableErrorInfo):
                raise UiPathError(f"schedule tick at {tick_time}: {item.to_string()}")
        [tick] = self.instance.get_ticks(schedule.get_remote_origin_id(), schedule.selector_id, limit=1)
        if tick.timestamp != stamp or tick.status not in (TickStatus.SUCCESS, TickStatus.SKIPPED):
            raise UiPathError(f"schedule tick at {tick_time}: {tick.status} {tick.error or ''} (tick at {tick.timestamp})")
        return list(tick.run_ids)

    def _remote_schedule(self):
        location = self.process_context.create_request_context().get_code_location(LOCATION)
        return location.get_repository(REPOSITORY).get_schedule(SCHEDULE)

    # --- waiting and reading -----------------------------------------------------------------------------

    def runs(self, *, run_ids: Sequence[str] | None = None, tags: dict[str, str] | None = None) -> list[RunTiming]:
        """The runs list, filtered by id or tag, oldest first."""
        run_filter = {}
        if run_ids is not None:
            run_filter["runIds"] = list(run_ids)
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        result = self.graphql(RUNS_QUERY, {"filter": run_filter})["runsOrError"]
        if result["__typename"] != "Runs":
            raise UiPathError(f"reading runs {run_filter}: {result}")
        timings = [
            RunTiming(
                run["runId"], run["status"], run["creationTime"], run["startTime"], run["endTime"],
                {tag["key"]: tag["value"] for tag in run["tags"]},
            )
            for run in result["results"]
        ]
        return sorted(timings, key=lambda run: run.created)

    def wait_for_runs(self, run_ids: Sequence[str], timeout_s: float) -> list[RunTiming]:
        """Poll the runs list until every run has finished (success, failure or canceled)."""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = self.runs(run_ids=run_ids)
            if len(runs) == len(run_ids) and all(run.status in FINISHED for run in runs):
                return runs
            if time.monotonic() > deadline:
                unfinished = [f"{run.run_id[:8]}:{run.status}" for run in runs if run.status not in FINISHED]
                raise UiPathError(f"{len(unfinished)} of {len(run_ids)} run(s) unfinished after {timeout_s}s: {unfinished}")
            time.sleep(0.5)

    def wait_for_retries(self, run: RunTiming, timeout_s: float) -> list[RunTiming]:
        """The automatic re-executions of a failed run (``run_retries`` in dagster.yaml), each finished, in order:
        the failed run is tagged ``dagster/will_retry`` when it fails, and with its retry's id once the daemon has
        launched it (within seconds). Empty for a run that succeeded or will not be retried."""
        deadline = time.monotonic() + timeout_s
        retries: list[RunTiming] = []
        while run.status == "FAILURE" and self.instance.run_retries_enabled:
            while WILL_RETRY_TAG not in run.tags or (
                run.tags[WILL_RETRY_TAG] == "true" and AUTO_RETRY_RUN_ID_TAG not in run.tags
            ):
                if time.monotonic() > deadline:
                    raise UiPathError(f"run {run.run_id}: no automatic retry after {timeout_s}s, tags {run.tags}")
                time.sleep(0.5)
                [run] = self.runs(run_ids=[run.run_id])
            if run.tags[WILL_RETRY_TAG] != "true":
                break
            [run] = self.wait_for_runs([run.tags[AUTO_RETRY_RUN_ID_TAG]], max(1.0, deadline - time.monotonic()))
            retries.append(run)
        return retries

    def wait_for_backfill(self, backfill_id: str, timeout_s: float) -> tuple[str, list[RunTiming]]:
        """Poll the backfill page until the daemon has completed it and its runs have finished."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.graphql(BACKFILL_QUERY, {"backfillId": backfill_id})["partitionBackfillOrError"]
            if result["__typename"] != "PartitionBackfill":
                raise UiPathError(f"reading backfill {backfill_id}: {result}")
            runs = self.runs(tags={"dagster/backfill": backfill_id})
            if result["status"] in BACKFILL_DONE and all(run.status in FINISHED for run in runs):
                return result["status"], runs
            if time.monotonic() > deadline:
                raise UiPathError(
                    f"backfill {backfill_id} {result['status']} after {timeout_s}s, runs "
                    f"{[run.status for run in runs]}; daemon log: {self.daemon_log()}"
                )
            time.sleep(0.5)

    def _run_events(self, query: str, run_id: str) -> Iterator[dict]:
        """Every event of the run's log, page by page (a ranged run logs its planned materializations first:
        thousands of events for a cohort)."""
        cursor = None
        while True:
            result = self.graphql(query, {"runId": run_id, "cursor": cursor})["runOrError"]
            if result["__typename"] != "Run":
                raise UiPathError(f"reading the log of run {run_id}: {result}")
            yield from result["eventConnection"]["events"]
            if not result["eventConnection"]["hasMore"]:
                return
            cursor = result["eventConnection"]["cursor"]

    def backfill_end(self, backfill_id: str) -> float | None:
        """When the backfill page started showing the backfill as done (epoch seconds; None: not done)."""
        result = self.graphql(BACKFILL_QUERY, {"backfillId": backfill_id})["partitionBackfillOrError"]
        return result.get("endTimestamp")

    def run_executor(self, run_id: str) -> str:
        """Which executor ran the steps ("in process" or "multiprocess"), from the run's log."""
        for event in self._run_events(RUN_LOG_QUERY, run_id):
            for announcement, executor in EXECUTORS.items():
                if event.get("message", "").startswith(announcement):
                    return executor
        raise UiPathError(f"run {run_id} did not log which executor ran its steps")

    def run_outcome(self, run_id: str) -> RunOutcome:
        failures: dict[str, str] = {}
        materializations: dict[str, dict[str, dict[str, int]]] = {}
        for event in self._run_events(RUN_OUTCOME_QUERY, run_id):
            if event["__typename"] == "ExecutionStepFailureEvent":
                failures[event["stepKey"]] = event["error"]["message"] if event["error"] else ""
            elif event["__typename"] == "MaterializationEvent":
                days = materializations.setdefault("/".join(event["assetKey"]["path"]), {})
                days[event["partition"]] = {
                    entry["label"]: entry["intValue"] for entry in event["metadataEntries"] if "intValue" in entry
                }
        return RunOutcome(failures, materializations)

    def terminate(self, run_ids: Sequence[str]) -> None:
        """The runs list's "Terminate" action, for runs a benchmark gave up waiting for."""
        if run_ids:
            self.graphql(TERMINATE_MUTATION, {"runIds": list(run_ids)})

    def cancel_backfill(self, backfill_id: str) -> None:
        self.graphql(CANCEL_BACKFILL_MUTATION, {"backfillId": backfill_id})

    def check_statuses(self, asset: str, check_name: str) -> dict[str, str]:
        """The check's "Partitions" tab: local day -> SUCCEEDED, FAILED, SKIPPED, IN_PROGRESS or EXECUTION_FAILED;
        days without any of these (shown missing) are left out."""
        variables = {"assetKey": {"path": asset.split("/")}, "checkName": check_name}
        [node] = self.graphql(CHECK_STATUS_QUERY, variables)["assetNodes"]
        check = node["assetCheckOrError"]
        if check["__typename"] != "AssetCheck":
            raise UiPathError(f"reading check {asset}:{check_name}: {check}")
        statuses: dict[str, str] = {}
        partition_statuses = check["partitionStatuses"]
        if partition_statuses is not None:  # None until the check has any evaluation or planned execution
            for day_range in partition_statuses["ranges"]:
                days = local_day_partitions.get_partition_keys_in_range(
                    dg.PartitionKeyRange(day_range["startKey"], day_range["endKey"])
                )
                statuses.update({day: day_range["status"] for day in days})
        return {day: status for day, status in statuses.items() if status != "MISSING"}


class WebserverUiPath(UiPath):
    """The same actions and views sent to a running ``dagster-webserver`` over HTTP (its /graphql endpoint, as the
    browser does), beside a daemon started elsewhere (the compose topology); the schedule tick still runs the
    daemon's scheduler code here, against the same instance and code server."""

    def __init__(self, process_context, dagster_home: Path, state_dir: Path, webserver_url: str,
                 daemon: subprocess.Popen, daemon_log):
        super().__init__(process_context, dagster_home, state_dir)
        self.webserver_url = webserver_url
        self.daemon = daemon
        self._daemon_log = daemon_log

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.webserver_url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            body = json.load(response)
        if body.get("errors"):
            raise UiPathError(f"{self.webserver_url}/graphql answered {body['errors']}")
        return body["data"]

    def daemon_log(self) -> str:
        return self._daemon_log()


def daemon_command(workspace_yaml: Path, backfill_interval_seconds: float) -> list[str]:
    """The daemon as ``make dev`` and the compose ``daemon`` service run it (there: its backfill loop every 2 s)."""
    return [sys.executable, "-m", "fitbit_assets.daemon", "-w", str(workspace_yaml),
            "--backfill-interval-seconds", str(backfill_interval_seconds)]


def stop_daemon(process: subprocess.Popen, timeout_s: float = 60) -> None:
    """Ctrl-C first (the daemon then stops its code server), then whatever is left of its session: a code
    server still serving an unfinished run and that run's worker outlive the daemon otherwise."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session): only what the daemon started
    except ProcessLookupError:
        pass  # nothing left
    process.wait()


@contextmanager
def open_ui_path(state_dir: Path, warehouse_dsn: str, roster: Sequence[Participant],
                 backfill_interval_seconds: float = BACKFILL_INTERVAL_SECONDS) -> Iterator[UiPath]:
    """A fresh instance, code location and daemon on ``state_dir`` and ``warehouse_dsn``, with ``roster``; the
    daemon's backfill loop every ``backfill_interval_seconds`` (30: Dagster's own ``dagster-daemon run``)."""
    state_dir = Path(state_dir)
    dagster_home = state_dir / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(instance_yaml()))
    workspace_yaml = dagster_home / "workspace.yaml"
    location = {"module_name": "fitbit_assets.definitions", "working_directory": str(ROOT), "location_name": LOCATION}
    workspace_yaml.write_text(yaml.safe_dump({"load_from": [{"python_module": location}]}))
    write_roster(state_dir / "roster.csv", list(roster))
    environment = {
        "DAGSTER_HOME": str(dagster_home),
        "FITBIT_STATE_DIR": str(state_dir),
        "FITBIT_WAREHOUSE_DSN": warehouse_dsn,
    }
    with project_environment(environment), dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        with define_out_of_process_workspace(str(workspace_yaml), None, instance) as process_context:
            ui = UiPath(process_context, dagster_home, state_dir)
            # Before the daemon starts, so its wall-clock scheduler never sees the schedule running.
            ui.stop_schedule()
            with (dagster_home / "daemon.log").open("w") as daemon_log:
                ui.daemon = subprocess.Popen(
                    daemon_command(workspace_yaml, backfill_interval_seconds), cwd=ROOT, env=dict(os.environ), stdout=daemon_log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            try:
                ui.wait_for_daemon()
                yield ui
            finally:
                stop_daemon(ui.daemon)
    # The instance's storage lives in the state folder's embedded server, which outlives its processes by design.
    stop_server(state_dir / "pgdata")
