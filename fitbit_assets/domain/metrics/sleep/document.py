"""The sleep-log document: its parts and the rules that tie them together, checked while parsing.

Source shape: ``GET /1.2/user/-/sleep/date/{date}.json`` -> ``{"sleep": [{"logId", "dateOfSleep", "startTime",
"endTime", "duration" (ms), "minutesAsleep", "minutesAwake", "timeInBed", "efficiency", "isMainSleep", "type",
"levels": {"data": [{"dateTime", "level", "seconds"}], "summary": {...}}}], "summary": {"totalMinutesAsleep",
"totalSleepRecords", "totalTimeInBed"}}``. Times are naive local wall-clock; a log belongs to the date it ends on
(``dateOfSleep``), which is the partition's date. ``type`` is ``classic`` (levels asleep/restless/awake, what
Fitabase's minuteSleep values 1/2/3 mean) or ``stages`` (wake/light/deep/rem, what the generator writes).
A day known only from daily totals (Fitabase ``sleepDay_merged.csv``) is ``{"sleep": [], "summary": {...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.family import MetricFileError, entries, field, parse_local_times

KEY = "sleep"
LEVELS = {"classic": ("asleep", "restless", "awake"), "stages": ("wake", "light", "deep", "rem")}
ASLEEP_LEVELS = {"classic": ("asleep",), "stages": ("light", "deep", "rem")}
SUMMARY_TOTALS = {"totalMinutesAsleep": "minutesAsleep", "totalTimeInBed": "timeInBed"}
UTC_NS = pd.DatetimeTZDtype(unit="ns", tz="UTC")


def _integer(obj: dict, name: str, where: str, low: int = 0) -> int:
    value = field(obj, name, where, (int, float))
    if isinstance(value, bool) or not np.isfinite(value) or value != int(value) or value < low:  # json reads NaN
        raise MetricFileError(f'{where}."{name}" must be a whole number >= {low}, got {value!r}')
    return int(value)


def _local(stamp: str, where: str) -> pd.Timestamp:
    local = parse_local_times([stamp], [stamp])[0]
    if pd.isna(local):
        raise MetricFileError(f"{where}: unparseable local time {stamp!r}")
    return local


def _candidates(local: pd.Timestamp, stamp: str, where: str, timezone: str) -> list[pd.Timestamp]:
    """The UTC instants a local wall-clock time can be: one, two in a repeated fall-back hour (first pass first),
    none in a spring-forward gap (an error)."""
    both_passes = pd.Series([local, local]).dt.tz_localize(timezone, ambiguous=np.array([True, False]), nonexistent="NaT")
    if both_passes.isna().any():
        raise MetricFileError(f"{where}: {stamp!r} does not exist in {timezone}")
    return list(dict.fromkeys(both_passes.dt.tz_convert("UTC").astype(UTC_NS)))


def _log_times(log: dict, where: str, timezone: str) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """startTime, endTime (UTC) and duration (ms). Around a fall-back hour a wall-clock time can be two instants: the
    pair whose distance is ``duration`` is the one meant; none of them is a clear error."""
    stamps = {name: field(log, name, where, str) for name in ("startTime", "endTime")}
    local = {name: _local(stamp, where) for name, stamp in stamps.items()}
    duration = _integer(log, "duration", where)
    starts, ends = (_candidates(local[name], stamps[name], where, timezone) for name in ("startTime", "endTime"))
    pairs = [(start, end) for start in starts for end in ends if start < end]
    if not pairs:
        raise MetricFileError(f"{where}: startTime {stamps['startTime']} is not before endTime {stamps['endTime']}")
    matching = [(start, end) for start, end in pairs if (end - start) / pd.Timedelta(milliseconds=1) == duration]
    if duration % 60_000 or not matching:
        elapsed = " or ".join(str(int((end - start) / pd.Timedelta(milliseconds=1))) for start, end in pairs)
        raise MetricFileError(f"{where}: duration {duration} ms is not endTime - startTime ({elapsed} ms) in whole minutes")
    start, end = matching[0]
    return start, end, duration


@dataclass(frozen=True)
class SleepLog:
    log_id: int
    type: str
    start: pd.Timestamp
    end: pd.Timestamp
    minutes_asleep: int
    minutes_awake: int
    time_in_bed: int
    efficiency: float
    is_main: bool
    minutes: pd.DataFrame  # ts, level of each minute in levels.data (empty without levels)


def _levels(log: dict, where: str, kind: str, start: pd.Timestamp, duration_min: int, timezone: str) -> pd.DataFrame:
    """``levels.data`` runs -> one row per minute. The runs must be 60-s multiples of the log's vocabulary, follow
    each other without gap or overlap from ``startTime``, and add up to ``duration``."""
    levels = log.get("levels")
    if levels is None:
        return pd.DataFrame({"ts": pd.Series(dtype=UTC_NS), "level": pd.Series(dtype=str)})
    if not isinstance(levels, dict):
        raise MetricFileError(f'{where}."levels" must be an object, got {type(levels).__name__}')
    data = field(levels, "data", f"{where}.levels", list)
    stamps, names, counts = [], [], []
    for r, run in enumerate(data):
        at = f"{where}.levels.data[{r}]"
        if not isinstance(run, dict):
            raise MetricFileError(f"{at} must be an object, got {type(run).__name__}")
        level = field(run, "level", at, str)
        if level not in LEVELS[kind]:
            raise MetricFileError(f'{at}: level {level!r} is not one of {kind} levels {list(LEVELS[kind])}')
        seconds = _integer(run, "seconds", at, low=60)
        if seconds % 60:
            raise MetricFileError(f"{at}: seconds {seconds} is not a multiple of 60")
        stamps.append(field(run, "dateTime", at, str))
        names.append(level)
        counts.append(seconds // 60)
    if sum(counts) != duration_min:
        raise MetricFileError(f"{where}: levels.data add up to {sum(counts)} min, the log's duration is {duration_min} min")
    if not data:
        return pd.DataFrame({"ts": pd.Series(dtype=UTC_NS), "level": pd.Series(dtype=str)})
    # Runs follow each other from startTime: each run's wall-clock start must be where the previous one ended.
    ts = pd.Series(start + pd.to_timedelta(np.arange(duration_min), unit="min")).astype(UTC_NS)
    expected = ts.iloc[np.r_[0, np.cumsum(counts)[:-1]]].dt.tz_convert(timezone).dt.tz_localize(None).reset_index(drop=True)
    # One parse for every run's start (a night has hundreds of runs); the first wrong one is reported.
    run_starts = parse_local_times(stamps, stamps)
    for r in np.flatnonzero(run_starts.isna().to_numpy() | (run_starts != expected).to_numpy()):
        at = f"{where}.levels.data[{r}]"
        if pd.isna(run_starts[r]):
            raise MetricFileError(f"{at}: unparseable local time {stamps[r]!r}")
        raise MetricFileError(f"{at} starts at {stamps[r]}, expected the previous run's end "
                              f"({expected[r].strftime('%Y-%m-%dT%H:%M:%S')})")
    return pd.DataFrame({"ts": ts, "level": np.repeat(names, counts)})


def _log(log: dict, where: str, day: LocalDay) -> SleepLog:
    date_of_sleep = field(log, "dateOfSleep", where, str)
    if date_of_sleep != day.local_date.isoformat():
        raise MetricFileError(f"{where}: dateOfSleep {date_of_sleep} is not the partition's date {day.local_date}")
    kind = field(log, "type", where, str)
    if kind not in LEVELS:
        raise MetricFileError(f'{where}: type {kind!r} is neither "classic" nor "stages"')
    start, end, duration = _log_times(log, where, day.timezone)
    numbers = {name: _integer(log, name, where) for name in ("minutesAsleep", "minutesAwake", "timeInBed")}
    if numbers["timeInBed"] != duration // 60_000:
        raise MetricFileError(f"{where}: timeInBed {numbers['timeInBed']} min is not the duration ({duration // 60_000} min)")
    if numbers["minutesAsleep"] + numbers["minutesAwake"] > numbers["timeInBed"]:
        raise MetricFileError(f"{where}: minutesAsleep {numbers['minutesAsleep']} + minutesAwake "
                              f"{numbers['minutesAwake']} exceed timeInBed {numbers['timeInBed']}")
    efficiency = log.get("efficiency")
    if efficiency is not None and (isinstance(efficiency, bool) or not isinstance(efficiency, (int, float))):
        raise MetricFileError(f'{where}."efficiency" must be a number, got {efficiency!r}')
    is_main = log.get("isMainSleep", False)
    if not isinstance(is_main, bool):
        raise MetricFileError(f'{where}."isMainSleep" must be true or false, got {is_main!r}')
    return SleepLog(
        log_id=_integer(log, "logId", where), type=kind, start=start, end=end,
        minutes_asleep=numbers["minutesAsleep"], minutes_awake=numbers["minutesAwake"],
        time_in_bed=numbers["timeInBed"], efficiency=np.nan if efficiency is None else float(efficiency),
        is_main=is_main, minutes=_levels(log, where, kind, start, duration // 60_000, day.timezone),
    )


@dataclass(frozen=True)
class SleepDocument:
    logs: list[SleepLog]
    totals: dict[str, float]  # totalMinutesAsleep, totalTimeInBed, totalSleepRecords


def parse_document(document: object, day: LocalDay) -> SleepDocument:
    """Both tables' parsers start here: every rule tying the document's parts together is checked once."""
    raw_logs = entries(document, KEY)
    summary = field(document, "summary", "document")
    logs = [_log(log, f'"{KEY}"[{i}]', day) for i, log in enumerate(raw_logs)]
    totals = {}
    for name in (*SUMMARY_TOTALS, "totalSleepRecords"):
        value = summary.get(name)
        # A wrong type is a value for Pandera to report (non-integer, negative), not a shape error.
        totals[name] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan
    if logs:
        sums = {name: sum(getattr(log, _SNAKE[key]) for log in logs) for name, key in SUMMARY_TOTALS.items()}
        sums["totalSleepRecords"] = len(logs)
        wrong = [f"{name} {totals[name]:g} != {sums[name]}" for name in sums if totals[name] != sums[name]]
        if wrong:
            raise MetricFileError(f"summary totals are not the sums over the {len(logs)} sleep log(s): {'; '.join(wrong)}")
        if sum(log.is_main for log in logs) > 1:
            raise MetricFileError(f"{sum(log.is_main for log in logs)} sleep logs have isMainSleep true, at most one may")
        ids = [log.log_id for log in logs]
        if len(set(ids)) != len(ids):
            raise MetricFileError(f"logId repeated: {sorted({i for i in ids if ids.count(i) > 1})}")
    return SleepDocument(logs, totals)


_SNAKE = {"minutesAsleep": "minutes_asleep", "timeInBed": "time_in_bed"}
