"""The benchmarks' input days and the project's full load path of one participant-day, stage by stage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import timed
from fitbit_assets.domain.heart_rate import read_raw_heart_rate, to_utc_frame, to_warehouse_frame, validate_heart_rate
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.warehouse.copy_text import heart_rate_copy
from fitbit_assets.warehouse.days import replace_heart_rate_day

DAY_TZ = "America/New_York"
DAY = dt.date(2025, 6, 10)  # no DST change: the common case


def one_hz_csv(path: Path) -> Path:
    """One local day of 1 Hz heart rate (86,400 rows) as the raw ``time,value`` file, deterministic."""
    if path.exists():
        return path
    rng = np.random.default_rng(20250610)
    seconds = np.arange(86_400)
    hour = seconds / 3600
    bpm = 64 + 10 * np.sin(2 * np.pi * (hour - 9) / 24) + np.cumsum(rng.normal(0, 0.05, seconds.size))
    bpm = np.clip(np.rint(bpm + rng.normal(0, 1.5, seconds.size)), 40, 190).astype(int)
    lines = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d},{b}" for s, b in zip(seconds, bpm)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("time,value\n" + "\n".join(lines) + "\n")
    return path


def participant(pid: str, seed: int, timezone: str = DAY_TZ, enrolled_on: dt.date = dt.date(2024, 1, 1)) -> Participant:
    return Participant(pid, seed, timezone, enrolled_on, "synthetic")


def full_path_load(conn, csv_path: Path, participant_id: str, day: LocalDay) -> dict[str, float]:
    """The project's load of one participant-day, stage by stage: read, convert, validate, replace (COPY)."""
    stages = {}
    stages["read"], raw = timed(read_raw_heart_rate, csv_path)
    stages["convert"], frame = timed(to_utc_frame, raw, participant_id, day)
    stages["validate"], report = timed(validate_heart_rate, frame, day)
    if not report.passed:
        raise RuntimeError(f"benchmark day failed validation: {report.summary()}")
    t, wframe = timed(to_warehouse_frame, frame)
    stages["validate"] += t
    stages["replace"], _ = timed(replace_heart_rate_day, conn, participant_id, day, wframe)
    stages["total"] = sum(stages.values())
    stages["serialize"], _ = timed(heart_rate_copy, wframe)  # measured again alone: how much of "replace" is Python
    return stages


def warehouse_frame(csv_path: Path, participant_id: str, day: LocalDay) -> pd.DataFrame:
    return to_warehouse_frame(to_utc_frame(read_raw_heart_rate(csv_path), participant_id, day))


def synthetic_warehouse_frame(who: Participant, day: LocalDay) -> pd.DataFrame:
    """A synthetic heart-rate day (realistic Fitbit sampling) as the rows ``replace_heart_rate_day`` writes."""
    raw = generate_heart_rate_day(who, day.local_date).astype({"value": str})
    return to_warehouse_frame(to_utc_frame(raw, who.participant_id, day))
