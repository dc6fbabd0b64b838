"""`dagster-daemon run` with the backfill daemon looping every few seconds instead of every 30.

A backfill launched from the UI (asset graph, asset page, partitions tab, job page) is only a row in the run storage
until the backfill daemon's next loop submits its runs, and its page shows it done only at the loop after its last
run ended. Dagster 1.13 runs that loop every ``DEFAULT_DAEMON_INTERVAL_SECONDS`` (30 s, in
``dagster/_daemon/controller.py``; ``backfill.py`` sleeps it out) and has no instance setting for it: the
``backfills:`` block of dagster.yaml only sizes its thread pools. So a 7-day backfill waited 0-30 s before its run
was queued and up to 30 s more before the UI called it done (benchmarks/RESULTS.md "UI launch wait").

This is Dagster's own daemon controller (``daemon_controller_from_instance``) with every daemon the instance asks for,
built by Dagster (``create_daemons_from_instance``), except that the backfill daemon's loop is paced by
``--backfill-interval-seconds``; each loop is Dagster's ``execute_backfill_iteration``, the same code the stock
daemon runs. The other daemons keep their instance settings (the run queue: ``dequeue_interval_seconds``).

Used by ``make dev``, the compose ``daemon`` service and the compose topology:
``python -m fitbit_assets.daemon -w workspace.yaml``. Only Dagster is imported: the production ``dagster`` image
carries this file without the project (Dockerfile).
"""

import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from threading import Event
from typing import Any

import click
from dagster._cli.utils import assert_no_remaining_opts, get_instance_for_cli
from dagster._cli.workspace.cli_target import workspace_opts_to_load_target
from dagster._core.instance import DagsterInstance
from dagster._core.workspace.context import IWorkspaceProcessContext
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.cli import _get_heartbeat_tolerance
from dagster._daemon.controller import create_daemons_from_instance, daemon_controller_from_instance
from dagster._daemon.daemon import BackfillDaemon, DaemonIterator, DagsterDaemon, SpanMarker
from dagster._daemon.utils import DaemonErrorCapture
from dagster._utils.interrupts import capture_interrupts, setup_interrupt_handlers
from dagster_shared.cli import WorkspaceOpts, workspace_options

# Short enough that a UI backfill's runs are queued within 2 s of the click and the page shows it done within 2 s
# of its last run; an idle loop is one query of the run storage for backfills in progress.
BACKFILL_INTERVAL_SECONDS = 2.0


class PacedBackfillDaemon(BackfillDaemon):
    """Dagster's backfill daemon (same type, settings, thread pools and iteration) on a loop of ``interval_seconds``."""

    def __init__(self, settings: Mapping[str, Any], interval_seconds: float) -> None:
        super().__init__(settings)
        self.interval_seconds = interval_seconds

    def core_loop(self, workspace_process_context: IWorkspaceProcessContext, shutdown_event: Event) -> DaemonIterator:
        # dagster._daemon.backfill.execute_backfill_iteration_loop, with this interval instead of its constant.
        backfill_futures: dict[str, Future] = {}
        while True:
            start = time.monotonic()
            yield SpanMarker.START_SPAN
            try:
                yield from execute_backfill_iteration(
                    workspace_process_context,
                    self._logger,
                    threadpool_executor=self._threadpool_executor,
                    backfill_futures=backfill_futures,
                    submit_threadpool_executor=self._submit_threadpool_executor,
                )
            except Exception:
                yield DaemonErrorCapture.process_exception(
                    exc_info=sys.exc_info(), logger=self._logger, log_message="BackfillDaemon caught an error"
                )
            yield SpanMarker.END_SPAN
            shutdown_event.wait(max(0.0, self.interval_seconds - (time.monotonic() - start)))
            yield None


def daemons_with_backfill_interval(instance: DagsterInstance, interval_seconds: float) -> Sequence[DagsterDaemon]:
    """The instance's daemons as ``dagster-daemon run`` builds them, the backfill daemon paced by ``interval_seconds``."""
    return [
        PacedBackfillDaemon(instance.get_backfill_settings(), interval_seconds)
        if daemon.daemon_type() == BackfillDaemon.daemon_type()
        else daemon
        for daemon in create_daemons_from_instance(instance)
    ]


@click.command(help="Run the instance's daemons, as `dagster-daemon run` does, the backfill daemon on a short loop.")
@click.option(
    "--backfill-interval-seconds", type=click.FloatRange(min=0.5), default=BACKFILL_INTERVAL_SECONDS,
    show_default=True, help="Seconds between the starts of two backfill daemon loops (Dagster's own: 30).",
)
@click.option(
    "--log-level", default="info", show_default=True, envvar="DAGSTER_DAEMON_LOG_LEVEL",
    type=click.Choice(["critical", "error", "warning", "info", "debug"], case_sensitive=False),
)
@click.option(
    "--code-server-log-level", default="warning", show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"], case_sensitive=False),
)
@workspace_options
def main(backfill_interval_seconds: float, log_level: str, code_server_log_level: str, **other_opts: object) -> None:
    workspace_opts = WorkspaceOpts.extract_from_cli_options(other_opts)
    assert_no_remaining_opts(other_opts)
    setup_interrupt_handlers()
    try:
        with capture_interrupts(), get_instance_for_cli() as instance, daemon_controller_from_instance(
            instance,
            workspace_load_target=workspace_opts_to_load_target(workspace_opts),
            heartbeat_tolerance_seconds=_get_heartbeat_tolerance(),
            gen_daemons=lambda instance: daemons_with_backfill_interval(instance, backfill_interval_seconds),
            log_level=log_level,
            code_server_log_level=code_server_log_level,
        ) as controller:
            controller.check_daemon_loop()
    except KeyboardInterrupt:
        return  # Ctrl-C or SIGINT from a supervisor: the controller has stopped its daemon threads


if __name__ == "__main__":
    main()
