"""Benchmark of export staging: does a daily run's cost grow with the number of exports in the landing folders?

    python -m benchmarks.staging            # full run (~2 min), updates the "Export staging" section of RESULTS.md
    python -m benchmarks.staging --quick    # CI smoke run: tiny files (.state/bench-quick/RESULTS.md)

Each size is a study of 10 source=landing participants whose coordinators dropped weekly Fitabase heart-rate
downloads (8 days each, overlapping the previous download by one day; one sample every 10 s for 16 h a day) in the
participants' folders. Measured with ``sources.staging.stage_days``, as the landing asset calls it: the first
staging (empty ledger, every export parsed), then the daily tick's staging (every participant, yesterday and the
3 days before) after one new download was dropped, with the ledger (only the new file is read) and without it (every
export read again, what each run did before the ledger), and a tick with nothing new. One measurement per case, on a
shared machine: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import (
    Section,
    Table,
    add_output_arguments,
    fmt_int,
    fmt_s,
    log,
    output_and_state,
    update_section,
)
from fitbit_assets.domain.roster import Participant, Roster
from fitbit_assets.domain.sources.staging import stage_days

SECTION_TITLE = "Export staging"
PARTICIPANTS = 10
FIRST_DAY = dt.date(2016, 3, 7)
TICK_DAYS = 4  # the daily schedule re-covers yesterday and the 3 days before (late syncs)
FULL = {"files": (20, 100, 200), "days_per_file": 8, "step_s": 10}
QUICK = {"files": (4, 8), "days_per_file": 2, "step_s": 1800}


def export_text(fitabase_id: str, first: dt.date, days: int, step_s: int) -> str:
    """A Fitabase ``Id,Time,Value`` export: samples every ``step_s`` from 07:00 to 23:00 of each local day. The value
    is a function of the participant and the time, so overlapping downloads agree (as real re-downloads do)."""
    per_day = np.arange(7 * 3600, 23 * 3600, step_s)
    offsets = np.concatenate([per_day + 86_400 * d for d in range(days)])
    times = pd.Timestamp(first) + pd.to_timedelta(offsets, unit="s")
    seconds = (times - pd.Timestamp(FIRST_DAY)).total_seconds().astype("int64").to_numpy()
    bpm = 55 + (seconds // step_s * 7919 + int(fitabase_id)) % 65
    text = pd.Series(times.strftime("%-m/%-d/%Y %-I:%M:%S %p"))
    return "Id,Time,Value\r\n" + "".join(f"{fitabase_id},{t},{v}\r\n" for t, v in zip(text, bpm)) + "\r\n"


def drop_export(landing: Path, participant: int, week: int, sizes: dict) -> tuple[Path, dt.date]:
    """Week ``week``'s download of one participant (overlapping the previous one by a day); its last day."""
    first = FIRST_DAY + dt.timedelta(days=week * (sizes["days_per_file"] - 1))
    fitabase_id = f"{4000000000 + participant}"
    path = landing / f"p{participant:02d}" / f"{fitabase_id}_heartrate_seconds_week{week:03d}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(export_text(fitabase_id, first, sizes["days_per_file"], sizes["step_s"]))
    return path, first + dt.timedelta(days=sizes["days_per_file"] - 1)


def measure(state: Path, files: int, sizes: dict, table: Table) -> None:
    folder = state / f"files-{files}"
    shutil.rmtree(folder, ignore_errors=True)
    landing, ledger = folder / "landing", folder / "ledger"
    roster = Roster(folder / "roster.csv", tuple(
        Participant(f"p{i:02d}", i, "America/New_York", FIRST_DAY, "landing", fitabase_id=f"{4000000000 + i}")
        for i in range(PARTICIPANTS)), ())
    weeks = files // PARTICIPANTS or 1
    last_day = FIRST_DAY
    for week in range(weeks):
        for participant in range(min(PARTICIPANTS, files)):
            last_day = max(last_day, drop_export(landing, participant, week, sizes)[1])
    dropped = sum(1 for _ in landing.rglob("*.csv"))
    every_day = [FIRST_DAY + dt.timedelta(days=d) for d in range((last_day - FIRST_DAY).days + 1)]
    participants = [p.participant_id for p in roster.participants if (landing / p.participant_id).is_dir()]

    def run(case: str, dates: list[dt.date]) -> None:
        started = time.perf_counter()
        result = stage_days("heart_rate", landing, ledger, roster, {p: dates for p in participants},
                            lambda pid, date: folder / "heart_rate" / pid / f"{date}.csv")
        seconds = time.perf_counter() - started
        if result.held_back or result.file_errors:
            raise RuntimeError(f"benchmark exports must stage cleanly: {result.held_back} {result.file_errors}")
        changed = sum(1 for key in result.staged if key not in result.unchanged)
        table.add(dropped_now(), case, result.files_parsed, fmt_int(changed), fmt_int(len(result.staged)), fmt_s(seconds))
        log(f"{dropped_now()} files, {case}: {seconds:.2f} s, parsed {result.files_parsed}")

    def dropped_now() -> int:
        return sum(1 for _ in landing.rglob("*.csv"))

    run("first staging, empty ledger: every export parsed, every day staged", every_day)
    _, new_last = drop_export(landing, 0, weeks, sizes)
    tick = [new_last - dt.timedelta(days=d) for d in range(TICK_DAYS)][::-1]
    run("daily tick after 1 new export, with the ledger", tick)
    run("daily tick, nothing new", tick)
    shutil.rmtree(ledger)
    run("daily tick after 1 new export, without the ledger (every export read, as before)", tick)
    assert dropped == files or files < PARTICIPANTS
    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.staging", description=__doc__.split("\n\n")[0])
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    sizes, mode = (QUICK, "quick") if args.quick else (FULL, "full")
    out, state, temp = output_and_state(args, "bench-staging")
    state.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    table = Table(["export files", "case", "files parsed", "days written", "days staged", "staging time (s)"])
    for files in sizes["files"]:
        measure(state, files, sizes, table)
    intro = (
        f"Mode **{mode}**. {PARTICIPANTS} participants, weekly Fitabase heart-rate downloads of "
        f"{sizes['days_per_file']} days (overlapping by one day, a sample every {sizes['step_s']} s for 16 h a day) "
        f"in their folders; the daily tick stages {TICK_DAYS} days of every participant. Days written: day files whose "
        f"bytes changed (the others are left untouched, so their fingerprints skip validation and load). "
        f"Load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs."
    )
    if mode == "quick":
        intro += "\n\n**Quick mode: tiny files, to check the benchmark code runs. Numbers are not meaningful.**"
    markdown = Section(SECTION_TITLE, intro, [("", table)]).markdown()
    update_section(out, SECTION_TITLE, markdown)
    print(markdown)
    if temp is not None:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
