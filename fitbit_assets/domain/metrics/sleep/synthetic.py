"""Synthetic sleep: the generator's main sleep of a night, as a ``stages`` sleep-log document."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from fitbit_assets.domain.metrics.physiology import SyntheticDay, local_iso, synthetic_day
from fitbit_assets.domain.metrics.sleep.document import ASLEEP_LEVELS, KEY, LEVELS
from fitbit_assets.domain.roster import Participant

# Synthetic nights (stages): ~90-min cycles, deep sleep early in the night and REM late, a few minutes to fall
# asleep and short awakenings. Minutes the device did not see (charging, off-wrist) are "wake": no sleep is
# measured without the sensor, so low-wear participants sleep less as far as the data goes.
CYCLE_MINUTES = (80, 100)
LATENCY_MINUTES = (4, 20)
AWAKENING_PROBABILITY = 0.02


def _stages(day: SyntheticDay, n_minutes: int, worn: np.ndarray) -> np.ndarray:
    rng = day.rng(7)
    cycle = int(rng.integers(*CYCLE_MINUTES))
    index = np.arange(n_minutes)
    progress = index / max(n_minutes, 1)
    position = (index % cycle) / cycle
    deep_end = 0.1 + 0.35 * (1 - progress)  # deep shrinks and REM grows over the night
    rem_start = 0.9 - 0.25 * progress
    stages = np.full(n_minutes, "light", dtype=object)
    stages[(position >= 0.1) & (position < deep_end)] = "deep"
    stages[position >= rem_start] = "rem"
    awakening = rng.random(n_minutes) < AWAKENING_PROBABILITY
    awakening |= np.roll(awakening, 1) & (rng.random(n_minutes) < 0.5)  # some last two minutes or more
    stages[awakening] = "wake"
    stages[: int(rng.integers(*LATENCY_MINUTES))] = "wake"
    stages[~worn] = "wake"
    return stages


def _runs(stamps: list[str], stages: np.ndarray) -> list[dict]:
    """Consecutive minutes of one level as ``levels.data`` entries."""
    change = np.flatnonzero(np.r_[True, stages[1:] != stages[:-1]])
    lengths = np.diff(np.r_[change, len(stages)])
    return [{"dateTime": stamps[i], "level": str(stages[i]), "seconds": int(n) * 60} for i, n in zip(change, lengths)]


def generate(participant: Participant, local_date: dt.date) -> dict:
    """The main sleep ending on the date, from the heart-rate generator's sleep window: from the first to the last
    worn minute of the window (the hours where it lowers bpm), present only when physiology's ``night`` is."""
    day = synthetic_day(participant, local_date)
    if day.night is None:
        return {KEY: [], "summary": {"totalMinutesAsleep": 0, "totalSleepRecords": 0, "totalTimeInBed": 0}}
    start, last = day.night["minute_utc"].min(), day.night["minute_utc"].max()
    minutes = pd.Series(pd.date_range(start, last, freq="min"))
    worn = minutes.isin(day.night["minute_utc"]).to_numpy()
    stages = _stages(day, len(minutes), worn)
    stamps = local_iso(minutes, participant.timezone, "%Y-%m-%dT%H:%M:%S.000")
    asleep = int(np.isin(stages, ASLEEP_LEVELS["stages"]).sum())
    in_bed = len(minutes)
    summary = {}
    for level in LEVELS["stages"]:
        runs = np.flatnonzero(np.r_[stages[0] == level, (stages[1:] == level) & (stages[:-1] != level)])
        summary[level] = {"count": int(runs.size), "minutes": int((stages == level).sum())}
    end = last + pd.Timedelta(minutes=1)
    log = {
        "logId": int(participant.seed) * 100_000 + local_date.toordinal() % 100_000,
        "dateOfSleep": local_date.isoformat(),
        "startTime": stamps[0],
        "endTime": local_iso(pd.Series([end]), participant.timezone, "%Y-%m-%dT%H:%M:%S.000")[0],
        "duration": in_bed * 60_000,
        "minutesAsleep": asleep,
        "minutesAwake": in_bed - asleep,
        "minutesToFallAsleep": 0,
        "minutesAfterWakeup": 0,
        "timeInBed": in_bed,
        "efficiency": int(round(100 * asleep / in_bed)),
        "isMainSleep": True,
        "type": "stages",
        "infoCode": 0,
        "levels": {"data": _runs(stamps, stages), "summary": summary},
    }
    stage_totals = {level: summary[level]["minutes"] for level in LEVELS["stages"]}
    return {KEY: [log], "summary": {"stages": stage_totals, "totalMinutesAsleep": asleep, "totalSleepRecords": 1,
                                    "totalTimeInBed": in_bed}}
