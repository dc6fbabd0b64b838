"""Benchmark of the Dagster UI path: what users wait for when they launch from the UI or the schedule ticks.

    python -m benchmarks.ui_path            # full run, updates the "UI path" section of benchmarks/RESULTS.md
    python -m benchmarks.ui_path --quick    # CI smoke run: tiny sizes (.state/bench-quick/RESULTS.md)
    python -m benchmarks.ui_path --launch-wait  # only the waits of issue 23: section "UI launch wait"
    python -m benchmarks.ui_path --launch-wait --backfill-interval-seconds 30  # the same with Dagster's 30 s loop

Every UI-path case runs through ``fitbit_assets.devtools.ui_path``: a real instance (QueuedRunCoordinator,
DefaultRunLauncher, the repo's dagster.yaml concurrency), the code location in its own gRPC server, a real
daemon (``python -m fitbit_assets.daemon``), launches and reads over the UI's GraphQL, each run in its own run
worker with the job's executor. Next to it, when cheap, the path it replaces: the multiprocess executor for one partition and
``execute_in_process`` with range tags (what the demo and tests used). One measurement per case: these are
minutes-long end-to-end runs on a shared machine, so the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.database import BenchServer
from benchmarks.report import (
    Section,
    Table,
    add_output_arguments,
    fmt_int,
    fmt_s,
    log,
    machine,
    output_and_state,
    update_section,
)
from fitbit_assets.daemon import BACKFILL_INTERVAL_SECONDS
from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, ParticipantDayKey, range_tags
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.devtools.ui_path import (
    FINISHED,
    MULTIPROCESS_RUN_CONFIG,
    ROOT,
    RunTiming,
    UiPath,
    UiPathError,
    open_ui_path,
    project_environment,
)

SECTION_TITLE = "UI path"
TIMEZONE = "America/New_York"
LAUNCHPAD_DAY = dt.date(2025, 6, 1)
BACKFILL_FIRST = dt.date(2025, 6, 3)
TICK = dt.datetime(2025, 6, 21, 12, 30, tzinfo=dt.timezone.utc)  # the daily cron: loads 06-17..06-20
ENROLLED = dt.date(2025, 5, 1)
CANCEL_TIMEOUT_S = 180  # terminated run workers need a moment to report CANCELED
WAIT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Sizes:
    backfill_days: int
    cohorts: tuple[int, ...]
    timeout_s: float  # per case: give up, terminate the rest and report how far it got
    multiprocess: bool  # the replaced executor (~1 min per run): full mode only
    run_shapes: tuple[int, ...] = ()  # other FITBIT_PARTICIPANTS_PER_RUN values, measured on the largest cohort
    first_month: tuple[int, int] = (0, 0)  # (participants, days): a study's first month as one asset backfill


FULL = Sizes(backfill_days=7, cohorts=(100, 1000), timeout_s=1200, multiprocess=False, first_month=(100, 30))
QUICK = Sizes(backfill_days=2, cohorts=(2,), timeout_s=600, multiprocess=False, first_month=(2, 2))


def bench_participant(index: int) -> Participant:
    return Participant(f"ui-{index:03d}", 1000 + index, TIMEZONE, ENROLLED, "synthetic")


def participant_days(participant_id: str, first: dt.date, days: int) -> list[ParticipantDayKey]:
    return [ParticipantDayKey(first + dt.timedelta(days=i), participant_id) for i in range(days)]


def rows_loaded(dsn: str, keys: list[ParticipantDayKey]) -> int:
    """heart_rate rows of exactly these participant-days (local days in the participants' timezone)."""
    wanted = {(key.participant_id, key.local_date) for key in keys}
    rows = fetch_all(
        dsn,
        "SELECT participant_id, (ts AT TIME ZONE %s)::date, count(*) FROM heart_rate GROUP BY 1, 2",
        (TIMEZONE,),
    )
    return sum(count for participant_id, day, count in rows if (participant_id, day) in wanted)


def checks_reported(ui: UiPath, keys: list[ParticipantDayKey]) -> str:
    """How many (day, check) pairs the UI's check partition view lists as passed or failed."""
    checks = ui.job_checks()
    days = {key.local_date.isoformat() for key in keys}
    reported = 0
    for asset, check_name in checks:
        statuses = ui.check_statuses(asset, check_name)
        reported += sum(statuses.get(day) in ("SUCCEEDED", "FAILED") for day in days)
    return f"{reported:,} of {len(days) * len(checks):,}"


def step_seconds(ui: UiPath, runs: list[RunTiming]) -> float:
    """Time inside the runs' steps (asset and check code, their event writes), from Dagster's step stats."""
    return sum(
        (step.end_time or step.start_time or 0) - (step.start_time or 0)
        for run in runs
        for step in ui.instance.get_run_step_stats(run.run_id)
    )


@dataclass
class Outcome:
    runs: list[RunTiming]
    launched: float  # epoch seconds, when the launch/tick was sent
    gave_up_after: float | None  # the case's time budget, when runs had to be terminated

    @property
    def wall(self) -> float:
        """Launch (or tick) to the end of the last run, from the run storage's clock."""
        return max(run.ended or run.created for run in self.runs) - self.launched

    def summary(self) -> dict[str, str]:
        statuses = Counter(run.status for run in self.runs)
        started = [run for run in self.runs if run.started]
        first_start = min(run.started for run in started) - self.launched if started else None
        # Runs canceled while queued never ran: their zero duration is not a run time.
        durations = [run.duration for run in self.runs if run.duration is not None and run.status != "CANCELED"]
        wall = fmt_s(self.wall) if self.gave_up_after is None else f"> {self.gave_up_after:.0f} (gave up)"
        return {
            "runs": f"{len(self.runs)} ({', '.join(f'{n} {status}' for status, n in sorted(statuses.items()))})",
            "wall": wall,
            "first_start": fmt_s(first_start) if first_start is not None else "-",
            "run_time": (f"{fmt_s(max(durations))}" if len(durations) == 1 else
                         f"{fmt_s(min(durations))} .. {fmt_s(max(durations))}") if durations else "-",
        }


def wait_or_give_up(ui: UiPath, run_ids: list[str], launched: float, timeout_s: float) -> Outcome:
    """All runs finished, or those still queued/running terminated once the case's time is up."""
    try:
        return Outcome(ui.wait_for_runs(run_ids, timeout_s), launched, None)
    except UiPathError as exc:
        log(f"giving up: {exc}")
        ui.terminate([run.run_id for run in ui.runs(run_ids=run_ids) if run.status not in FINISHED])
        return Outcome(ui.wait_for_runs(run_ids, CANCEL_TIMEOUT_S), launched, timeout_s)


def launch_partition(ui: UiPath, key: ParticipantDayKey, timeout_s: float, run_config: dict | None = None) -> Outcome:
    launched = time.time()
    run_id = ui.launch_partition_run(key.local_date, [key.participant_id], run_config)
    return wait_or_give_up(ui, [run_id], launched, timeout_s)


def launch_backfill(ui: UiPath, keys: list[ParticipantDayKey], timeout_s: float, every_participant: bool = False) -> Outcome:
    """The asset graph's Materialize over the days of ``keys``, for their participants (or, with
    ``every_participant``, without a participant tag: the whole roster)."""
    launched = time.time()
    participants = [] if every_participant else sorted({key.participant_id for key in keys})
    backfill_id = ui.launch_asset_backfill(sorted({key.local_date for key in keys}), ui.job_assets(), participants)
    try:
        _, runs = ui.wait_for_backfill(backfill_id, timeout_s)
        return Outcome(runs, launched, None)
    except UiPathError as exc:
        log(f"giving up: {exc}")
        ui.cancel_backfill(backfill_id)
        run_ids = [run.run_id for run in ui.runs(tags={"dagster/backfill": backfill_id})]
        ui.terminate([run.run_id for run in ui.runs(run_ids=run_ids) if run.status not in FINISHED])
        return Outcome(ui.wait_for_runs(run_ids, CANCEL_TIMEOUT_S), launched, timeout_s)


def in_process(state: Path, dsn: str, requests: list[dict]) -> tuple[float, int]:
    """The replaced path: ``pipeline_job.execute_in_process`` per request in this process, as the demo did."""
    import dagster as dg

    with project_environment({"FITBIT_STATE_DIR": str(state), "FITBIT_WAREHOUSE_DSN": dsn}):
        # Imported here: the Definitions read the state folder and DSN from the environment at import.
        from fitbit_assets.definitions import defs

        job = defs.resolve_job_def("pipeline_job")
        quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
        with dg.instance_for_test() as instance:
            started = time.perf_counter()
            for request in requests:
                result = job.execute_in_process(instance=instance, run_config=quiet, raise_on_error=False, **request)
                if not result.success:
                    raise RuntimeError(f"execute_in_process failed for {request}")
            return time.perf_counter() - started, len(requests)


def bench_launchpad_and_backfill(server: BenchServer, state: Path, sizes: Sizes, table: Table) -> None:
    who = bench_participant(0)
    single = [ParticipantDayKey(LAUNCHPAD_DAY, who.participant_id)]
    multiprocess_day = [ParticipantDayKey(LAUNCHPAD_DAY + dt.timedelta(days=1), who.participant_id)]
    backfill = participant_days(who.participant_id, BACKFILL_FIRST, sizes.backfill_days)
    dsn = server.fresh("bench_ui_launchpad")
    with open_ui_path(state / "launchpad", dsn, [who]) as ui:
        log("UI: one participant-day from the launchpad (job's executor)")
        outcome = launch_partition(ui, single[0], sizes.timeout_s)
        add_ui_row(table, "1 participant-day", "launchpad (`launchPipelineExecution`), job's default executor", outcome,
                   dsn, single, ui)
        if sizes.multiprocess:
            if ui.config_is_valid(MULTIPROCESS_RUN_CONFIG):
                log("UI: one participant-day, multiprocess executor")
                outcome = launch_partition(ui, multiprocess_day[0], sizes.timeout_s, MULTIPROCESS_RUN_CONFIG)
                add_ui_row(table, "1 participant-day", "launchpad, run config `execution: multiprocess` (replaced)",
                           outcome, dsn, multiprocess_day, ui)
            else:
                table.add("1 participant-day", "launchpad, run config `execution: multiprocess` (replaced)",
                          "not accepted by the job's executor", "-", "-", "-", "-", "-", "-", "-", "-")
        log(f"UI: asset backfill {sizes.backfill_days} days x 1 participant")
        outcome = launch_backfill(ui, backfill, sizes.timeout_s)
        add_ui_row(table, f"{sizes.backfill_days} days x 1 participant",
                   "asset backfill (`launchPartitionBackfill`, every asset of pipeline_job)", outcome, dsn, backfill, ui)
    inproc_dsn = server.fresh("bench_ui_in_process")
    inproc_state = state / "in_process"
    write_roster(inproc_state / "roster.csv", [who])
    log("in process: the same participant-day and backfill")
    wall, runs = in_process(inproc_state, inproc_dsn, [{"partition_key": single[0].local_date.isoformat(),
                                                        "tags": {PARTICIPANTS_TAG: who.participant_id}}])
    table.add("1 participant-day", "`execute_in_process` (replaced: demo, tests)", "in process", runs, fmt_s(wall),
              "-", "-", "-", "-", fmt_int(rows_loaded(inproc_dsn, single)), "-")
    wall, runs = in_process(inproc_state, inproc_dsn, [{"tags": range_tags(who.participant_id, backfill[0].local_date,
                                                                          backfill[-1].local_date)}])
    table.add(f"{sizes.backfill_days} days x 1 participant", "`execute_in_process` with range tags (replaced)",
              "in process", runs, fmt_s(wall), "-", "-", "-", "-", fmt_int(rows_loaded(inproc_dsn, backfill)), "-")


def add_ui_row(table: Table, what: str, path: str, outcome: Outcome, dsn: str, keys: list[ParticipantDayKey],
               ui: UiPath, new_days: int | None = None) -> None:
    """``new_days``: participant-days the case loads for the first time (default: all of ``keys``)."""
    summary = outcome.summary()
    started = [run for run in outcome.runs if run.started]
    executor = ui.run_executor(started[0].run_id) if started else "-"
    in_steps = step_seconds(ui, outcome.runs)
    new_days = len(keys) if new_days is None else new_days
    per_day = (f"{outcome.wall / new_days:.3f} / {in_steps / new_days:.3f}"
               if new_days and outcome.gave_up_after is None else "-")
    table.add(what, path, executor, summary["runs"], summary["wall"], summary["first_start"], summary["run_time"],
              fmt_s(in_steps), per_day, fmt_int(rows_loaded(dsn, keys)), checks_reported(ui, keys))


def bench_first_month(server: BenchServer, state: Path, sizes: Sizes, table: Table) -> None:
    """A study's first month: every participant x every day as one asset backfill of the whole job."""
    participants, days = sizes.first_month
    cohort = [bench_participant(i) for i in range(1, participants + 1)]
    first = TICK.date() - dt.timedelta(days=days)
    keys = [key for p in cohort for key in participant_days(p.participant_id, first, days)]
    dsn = server.fresh("bench_ui_first_month")
    with open_ui_path(state / "first_month", dsn, cohort) as ui:
        log(f"UI: first month, asset backfill of {days} days x {participants} participants")
        outcome = launch_backfill(ui, keys, sizes.timeout_s, every_participant=True)
        add_ui_row(table, f"{days} days x {participants} participants (a first month)",
                   "asset backfill of every asset of pipeline_job, no participant tag (the roster)", outcome, dsn, keys, ui)


def bench_ticks(server: BenchServer, state: Path, sizes: Sizes, table: Table) -> list[str]:
    notes = []
    runs = [(size, None) for size in sizes.cohorts] + [(max(sizes.cohorts), shape) for shape in sizes.run_shapes]
    for cohort_size, participants_per_run in runs:
        shape = f"{participants_per_run} per run" if participants_per_run else "default 250 per run"
        outcome = bench_tick_pair(server, state, sizes, table, cohort_size, participants_per_run, shape)
        if outcome.gave_up_after is not None and participants_per_run is None:
            skipped = [size for size in sizes.cohorts if size > cohort_size]
            if skipped:
                notes.append(f"Ticks for {', '.join(map(str, skipped))} participants not measured: {cohort_size} "
                             f"participants did not finish within {sizes.timeout_s:.0f} s.")
            break
    return notes


def bench_tick_pair(server: BenchServer, state: Path, sizes: Sizes, table: Table, cohort_size: int,
                    participants_per_run: int | None, shape: str) -> Outcome:
    """The first tick on a fresh state, then the next day's (what runs every day: one new day, three unchanged)."""
    yesterday = TICK.date() - dt.timedelta(days=1)
    cohort = [bench_participant(i) for i in range(1, cohort_size + 1)]
    name = f"tick_{cohort_size}" + (f"_by_{participants_per_run}" if participants_per_run else "")
    dsn = server.fresh(f"bench_ui_{name}")
    environment = {"FITBIT_PARTICIPANTS_PER_RUN": str(participants_per_run)} if participants_per_run else {}
    with project_environment(environment), open_ui_path(state / name, dsn, cohort) as ui:
        for label, tick, first in (("first tick on a fresh state: every day new", TICK, yesterday - dt.timedelta(days=3)),
                                   ("next day's tick: 1 new day, 3 trailing days unchanged", TICK + dt.timedelta(days=1),
                                    yesterday - dt.timedelta(days=2))):
            window = [key for p in cohort for key in participant_days(p.participant_id, first, 4)]
            log(f"UI: {label} at {tick:%Y-%m-%d %H:%M}, {cohort_size} participants, {shape}")
            launched = time.time()
            run_ids = ui.schedule_tick(tick)
            outcome = wait_or_give_up(ui, run_ids, launched, sizes.timeout_s)
            new_days = len(window) if tick == TICK else cohort_size  # the next day: one new day per participant
            add_ui_row(table, f"daily tick, {cohort_size} participants x 4 days, {shape}", label, outcome, dsn, window, ui,
                       new_days)
            if outcome.gave_up_after is not None:
                break
    return outcome


WAIT_SECTION_TITLE = "UI launch wait"
WAIT_REPEATS = 3  # the backfill daemon's loop makes the pick-up anywhere in 0-30 s: a few launches show the spread
# dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS: the loop of Dagster's own backfill daemon.
DAGSTER_BACKFILL_INTERVAL_SECONDS = 30.0
WAIT_TARGETS = {"day": 5.0, "backfill": 15.0}  # issue 23: a UI-launched participant-day, a 7-day UI backfill


def bench_launch_wait(server: BenchServer, state: Path, repeats: int, backfill_days: int,
                      backfill_interval: float) -> tuple[Table, list[str]]:
    """What a data engineer waits for after clicking launch, each path ``repeats`` times on new days (nothing
    skipped as unchanged): until the run is done, and until the UI shows the backfill done; and the notes."""
    who = bench_participant(0)
    table = Table(["case", "path", "launch", "load average (1 min)", "first run start (s)", "run time (s)",
                   "run done (s)", "shown done in the UI (s)", "target (s)"])
    dsn = server.fresh("bench_ui_wait")
    with open_ui_path(state / "launch_wait", dsn, [who], backfill_interval) as ui:

        def add(case: str, path: str, repeat: int, load: float, outcome: Outcome, shown_done: float | None,
                target: float) -> None:
            summary = outcome.summary()
            shown = fmt_s(shown_done - outcome.launched) if shown_done else summary["wall"]
            table.add(case, path, repeat + 1, f"{load:.1f}", summary["first_start"], summary["run_time"],
                      summary["wall"], shown, f"{target:.0f}")

        for repeat in range(repeats):
            day = ENROLLED + dt.timedelta(days=repeat)
            load = os.getloadavg()[0]
            log(f"UI wait: launchpad day {day}")
            outcome = launch_partition(ui, ParticipantDayKey(day, who.participant_id), WAIT_TIMEOUT_S)
            add("1 participant-day", "launchpad (`launchPipelineExecution`, queue polled every 1 s)", repeat, load,
                outcome, None, WAIT_TARGETS["day"])
        for repeat in range(repeats):
            first = ENROLLED + dt.timedelta(days=10 + repeat * backfill_days)
            keys = participant_days(who.participant_id, first, backfill_days)
            load = os.getloadavg()[0]
            log(f"UI wait: asset backfill {first} + {backfill_days} days")
            launched = time.time()
            backfill_id = ui.launch_asset_backfill([key.local_date for key in keys], ui.job_assets(),
                                                   [who.participant_id])
            _, runs = ui.wait_for_backfill(backfill_id, WAIT_TIMEOUT_S)
            add(f"{backfill_days} days x 1 participant", "asset backfill (`launchPartitionBackfill`: backfill daemon, "
                "then the queue)", repeat, load, Outcome(runs, launched, None), ui.backfill_end(backfill_id),
                WAIT_TARGETS["backfill"])
        for repeat in range(repeats):
            first = ENROLLED + dt.timedelta(days=40 + repeat * backfill_days)
            last = first + dt.timedelta(days=backfill_days - 1)
            load = os.getloadavg()[0]
            log(f"UI wait: ranged launchpad run {first} .. {last}")
            launched = time.time()
            run_id = ui.launch_range_run(first, last, [who.participant_id])
            add(f"{backfill_days} days x 1 participant", "launchpad with range tags (`launchPipelineExecution`: the "
                "queue only)", repeat, load, wait_or_give_up(ui, [run_id], launched, WAIT_TIMEOUT_S), None,
                WAIT_TARGETS["backfill"])
        first = ENROLLED + dt.timedelta(days=70)
        load = os.getloadavg()[0]
        log(f"UI wait: job page backfill {first} + {backfill_days} days")
        launched = time.time()
        backfill_id = ui.launch_job_backfill([first + dt.timedelta(days=i) for i in range(backfill_days)])
        _, runs = ui.wait_for_backfill(backfill_id, WAIT_TIMEOUT_S)
        add(f"{backfill_days} days x 1 participant", "job page backfill (`launchPartitionBackfill`, job selector: "
            "one ranged run)", 0, load, Outcome(runs, launched, None), ui.backfill_end(backfill_id),
            WAIT_TARGETS["backfill"])
        code_load = code_load_seconds()  # in the harness's environment, as a run worker starts
    return table, wait_notes(code_load, backfill_interval)


def code_load_seconds() -> tuple[float, float]:
    """What every run worker pays before its first step: a new Python importing the code location; and the load
    average (1 min) when measured."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-c", "import fitbit_assets.definitions"], check=True,
                   cwd=ROOT, capture_output=True)
    return time.perf_counter() - started, load


def wait_notes(code_load: tuple[float, float], backfill_interval: float) -> list[str]:
    interval = f"{backfill_interval:g}"
    return [
        "Where the wait goes: a launchpad run's first start is the queue (up to 1 s) plus its run worker starting "
        f"Python and loading the code location (a new Python importing `fitbit_assets.definitions`: {code_load[0]:.1f} s "
        f"at load {code_load[1]:.1f}); a backfill first waits for the backfill daemon's pick-up (0-{interval} s, its "
        "loop), then the same queue and start, and its page shows it done at the daemon's next loop after the run "
        f"ended (up to {interval} s more). "
        + ("Dagster's own `dagster-daemon run` paces its backfill daemon the same way."
           if backfill_interval == DAGSTER_BACKFILL_INTERVAL_SECONDS else
           "With Dagster's own `dagster-daemon run` both waits are 0-30 s (section "
           f"\"{wait_section_title(DAGSTER_BACKFILL_INTERVAL_SECONDS)}\")."),
        "What is left once the backfill loop is short is the run worker's start (a new Python loading the code "
        "location) and the run itself: on a loaded machine both grow with the load average.",
    ]


def wait_section_title(backfill_interval: float) -> str:
    """The project daemon's numbers under "UI launch wait"; another interval (30 s: Dagster's) beside them."""
    if backfill_interval == BACKFILL_INTERVAL_SECONDS:
        return WAIT_SECTION_TITLE
    return f"{WAIT_SECTION_TITLE}, backfill loop every {backfill_interval:g} s"


def wait_section(table: Table, notes: list[str], mode: str, elapsed: float, load: tuple[float, float],
                 backfill_interval: float) -> Section:
    info = machine()
    intro = (
        f"Generated by `python -m benchmarks.ui_path --launch-wait{' --quick' if mode == 'quick' else ''}"
        f"{'' if backfill_interval == BACKFILL_INTERVAL_SECONDS else f' --backfill-interval-seconds {backfill_interval:g}'}` on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; mode **{mode}**, total wall time {elapsed:.0f} s. "
        f"Machine: {info['cpus']} cores, {info['memory']} RAM, {info['versions']}; load average (1 min) "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end, and at each launch in the table.\n\n"
        "Issue 23 point 4: how long a data engineer waits after clicking launch, through the same harness as "
        "\"UI path\" (real daemon with the repo's the top-level `dagster.yaml`, run workers, GraphQL). One synthetic "
        "participant, new days every launch. First run start: launch to the run worker starting; run done: launch "
        "to the end of the (last) run; shown done in the UI: launch to the backfill's end time on its page (the "
        "backfill daemon marks it done at its first loop after the run ended); for a run, the run's end. "
        "Daemon: `python -m fitbit_assets.daemon` (`make dev` and the compose `daemon` service run it with its "
        f"default, a {BACKFILL_INTERVAL_SECONDS:g} s backfill loop), Dagster's daemon controller with the backfill "
        f"daemon looping every {backfill_interval:g} s here; Dagster 1.13's own `dagster-daemon run` loops it every "
        f"{DAGSTER_BACKFILL_INTERVAL_SECONDS:g} s (`DEFAULT_DAEMON_INTERVAL_SECONDS` in "
        "`dagster/_daemon/controller.py`, not an instance setting). The run queue is polled every second "
        "(`dequeue_interval_seconds: 1` in both instance files)."
    )
    if mode == "quick":
        intro += "\n\n**Quick mode: tiny sizes, to check the benchmark code runs. Numbers are not meaningful.**"
    return Section(wait_section_title(backfill_interval), intro, [("", table)], notes)


def section(table: Table, notes: list[str], mode: str, elapsed: float, load: tuple[float, float]) -> Section:
    info = machine()
    intro = (
        f"Generated by `python -m benchmarks.ui_path{' --quick' if mode == 'quick' else ''}` on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; mode **{mode}**, total wall time {elapsed:.0f} s. "
        f"Machine: {info['cpus']} cores, {info['memory']} RAM, {info['versions']}; load average (1 min) "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (the machine is shared: read these as orders of "
        "magnitude).\n\n"
        "What users wait for: runs launched the way the UI launches them (GraphQL against the code location "
        "`fitbit_assets.definitions`), queued and launched by a real `dagster-daemon` (QueuedRunCoordinator, "
        "`max_concurrent_runs` from `dagster.yaml`), each executed in its own run worker (DefaultRunLauncher) with the "
        "job's executor, on the embedded PostgreSQL. Harness: `fitbit_assets/devtools/ui_path.py`. One synthetic "
        f"participant for the launchpad and backfill rows; the tick at {TICK:%Y-%m-%d %H:%M} UTC loads yesterday and "
        "the 3 days before it for every roster participant (each cohort on a fresh instance and database). "
        "Wall time: from the GraphQL launch (or the tick) to the end of the last run; first run start: launch to the "
        "first run worker starting (queue + launch); run time: start to end of each run; time in steps: the runs' "
        "step durations summed (the assets' and checks' own work, including their event writes); per new "
        "participant-day: wall time and time in steps divided by the participant-days loaded for the first time "
        "(the next day's tick: one per participant). Checks shown: (day, check) pairs that the check's Partitions view "
        "lists as passed or failed, out of every check of pipeline_job for every day of the case."
    )
    if mode == "quick":
        intro += "\n\n**Quick mode: tiny sizes, to check the benchmark code runs. Numbers are not meaningful.**"
    return Section(SECTION_TITLE, intro, [("", table)], notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_path", description=__doc__.split("\n\n")[0])
    add_output_arguments(parser)
    parser.add_argument("--launch-wait", action="store_true",
                        help="only the launch waits (section \"UI launch wait\"): a day, a 7-day backfill, each path")
    parser.add_argument("--backfill-interval-seconds", type=float, default=BACKFILL_INTERVAL_SECONDS,
                        help=f"the daemon's backfill loop for --launch-wait (default {BACKFILL_INTERVAL_SECONDS:g}, as "
                        f"make dev and compose run it; {DAGSTER_BACKFILL_INTERVAL_SECONDS:g}: Dagster's own, in a "
                        "section of its own)")
    args = parser.parse_args(argv)
    import dagster as dg

    for category in (dg.PreviewWarning, dg.BetaWarning):
        warnings.filterwarnings("ignore", category=category)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    out, state, temp = output_and_state(args, "bench-ui")
    # Dagster instances and study folders start empty every time; only the PostgreSQL data dir is kept.
    for stale in state.glob("*"):
        if stale.is_dir() and stale.name != "pgdata":
            shutil.rmtree(stale)
    state.mkdir(parents=True, exist_ok=True)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    log(f"mode {mode}, state {state}")
    server = BenchServer(state / "pgdata")
    if args.launch_wait:
        try:
            table, notes = bench_launch_wait(server, state, 1 if args.quick else WAIT_REPEATS, sizes.backfill_days,
                                             args.backfill_interval_seconds)
        finally:
            server.stop()
            if temp is not None:
                temp.cleanup()
        load = (load_before, os.getloadavg()[0])
        markdown = wait_section(table, notes, mode, time.perf_counter() - started, load,
                                args.backfill_interval_seconds).markdown()
        update_section(out, wait_section_title(args.backfill_interval_seconds), markdown)
        print(markdown)
        log(f"done in {time.perf_counter() - started:.0f} s; wrote {out}")
        return 0
    table = Table(["case", "path", "executor", "runs", "wall time (s)", "first run start (s)", "run time (s)",
                   "time in steps (s)", "s per new participant-day (wall / in steps)", "rows loaded",
                   "checks shown passed/failed (days x checks)"])
    try:
        bench_launchpad_and_backfill(server, state, sizes, table)
        bench_first_month(server, state, sizes, table)
        notes = bench_ticks(server, state, sizes, table)
    finally:
        server.stop()
        if temp is not None:
            temp.cleanup()
    markdown = section(table, notes, mode, time.perf_counter() - started, (load_before, os.getloadavg()[0])).markdown()
    update_section(out, SECTION_TITLE, markdown)
    print(markdown)
    log(f"done in {time.perf_counter() - started:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
