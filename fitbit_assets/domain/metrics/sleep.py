"""Sleep: nightly totals per participant-day and the minute-level sleep states, from one sleep-log document.

Source shape: ``GET /1.2/user/-/sleep/date/{date}.json`` -> ``{"sleep": [{"logId", "dateOfSleep", "startTime",
"endTime", "duration" (ms), "minutesAsleep", "minutesAwake", "timeInBed", "efficiency", "isMainSleep", "type",
"levels": {"data": [{"dateTime", "level", "seconds"}], "summary": {...}}}], "summary": {"totalMinutesAsleep",
"totalSleepRecords", "totalTimeInBed"}}``. Times are naive local wall-clock; a log belongs to the date it ends on
(``dateOfSleep``), which is the partition's date. ``type`` is ``classic`` (levels asleep/restless/awake, what
Fitabase's minuteSleep values 1/2/3 mean) or ``stages`` (wake/light/deep/rem, what the generator writes).
A day known only from daily totals (Fitabase ``sleepDay_merged.csv``) is ``{"sleep": [], "summary": {...}}``.

One document, two tables: the family ``sleep`` loads the nightly totals (``sleep_daily``, one row per
participant-day, zeros when no sleep was recorded) and ``sleep_minutes`` reads the same landing files for the
states of each minute (``sleep_minutes``, none for summary-only days). Rules that tie the parts of the document
together (runs summing to the log's duration, summary = sums over logs, ...) are checked while parsing, so a
document that contradicts itself fails the day in both tables; value rules are the two Pandera models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.common import (
    MetricFamily,
    MetricFileError,
    empty_frame,
    entries,
    field,
    local_dates,
    parse_local_times,
    sleep_window,
)
from fitbit_assets.domain.metrics.physiology import SyntheticDay, local_iso, synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

KEY = "sleep"
LEVELS = {"classic": ("asleep", "restless", "awake"), "stages": ("wake", "light", "deep", "rem")}
ASLEEP_LEVELS = {"classic": ("asleep",), "stages": ("light", "deep", "rem")}
SUMMARY_TOTALS = {"totalMinutesAsleep": "minutesAsleep", "totalTimeInBed": "timeInBed"}
DAILY_COLUMNS = (
    "participant_id", "local_date", "minutes_asleep", "time_in_bed", "sleep_records", "minutes_awake",
    "main_sleep_start", "main_sleep_end", "main_minutes_asleep", "main_efficiency",
)
DAILY_INTEGER_COLUMNS = ("minutes_asleep", "time_in_bed", "sleep_records", "minutes_awake", "main_minutes_asleep",
                         "main_efficiency")
MINUTE_COLUMNS = ("participant_id", "ts", "local_date", "log_id", "level")
UTC_NS = pd.DatetimeTZDtype(unit="ns", tz="UTC")

# Synthetic nights (stages): ~90-min cycles, deep sleep early in the night and REM late, a few minutes to fall
# asleep and short awakenings. Minutes the device did not see (charging, off-wrist) are "wake": no sleep is
# measured without the sensor, so low-wear participants sleep less as far as the data goes.
CYCLE_MINUTES = (80, 100)
LATENCY_MINUTES = (4, 20)
AWAKENING_PROBABILITY = 0.02


# --- synthetic generator -----------------------------------------------------------------------------------------

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


# --- parser ------------------------------------------------------------------------------------------------------

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
    for r, stamp in enumerate(stamps):
        if _local(stamp, f"{where}.levels.data[{r}]") != expected[r]:
            raise MetricFileError(f"{where}.levels.data[{r}] starts at {stamp}, expected the previous run's end "
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


def parse_daily(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    """The nightly totals of the partition's date: one row, also for a night without sleep (zeros)."""
    parsed = parse_document(document, day)
    main = next((log for log in parsed.logs if log.is_main), None)
    row = {
        "participant_id": participant_id,
        "local_date": day.local_date.isoformat(),
        "minutes_asleep": parsed.totals["totalMinutesAsleep"],
        "time_in_bed": parsed.totals["totalTimeInBed"],
        "sleep_records": parsed.totals["totalSleepRecords"],
        # Summary-only days (Fitabase sleepDay) do not say how long the participant was awake in bed.
        "minutes_awake": float(sum(log.minutes_awake for log in parsed.logs)) if parsed.logs else np.nan,
        "main_sleep_start": main.start if main else pd.NaT,
        "main_sleep_end": main.end if main else pd.NaT,
        "main_minutes_asleep": float(main.minutes_asleep) if main else np.nan,
        "main_efficiency": main.efficiency if main else np.nan,
    }
    frame = pd.DataFrame([row], columns=list(DAILY_COLUMNS))
    frame["local_date"] = local_dates(frame["local_date"].tolist())
    for column in ("main_sleep_start", "main_sleep_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype(UTC_NS)
    return frame.astype({c: "float64" for c in DAILY_INTEGER_COLUMNS}).astype({"participant_id": str})


def parse_minutes(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    """Every minute of every log's ``levels.data``: its UTC time, the log and the level."""
    parsed = parse_document(document, day)
    frames = [log.minutes.assign(log_id=float(log.log_id)) for log in parsed.logs if not log.minutes.empty]
    if not frames:
        return empty_frame({"participant_id": "str", "ts": UTC_NS, "local_date": "datetime64[ns]",
                            "log_id": "float64", "level": "str"})
    minutes = pd.concat(frames, ignore_index=True)
    return pd.DataFrame(
        {
            "participant_id": pd.Series([participant_id] * len(minutes), dtype=str),
            "ts": minutes["ts"],
            "local_date": pd.Series(pd.Timestamp(day.local_date), index=minutes.index).astype("datetime64[ns]"),
            "log_id": minutes["log_id"],
            "level": minutes["level"].astype(str),
        }
    )


# --- Pandera models ----------------------------------------------------------------------------------------------

class SleepDailyFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    local_date: Series[pd.Timestamp] = pa.Field(unique=True)
    minutes_asleep: Series[float] = pa.Field(ge=0, le=1440)
    time_in_bed: Series[float] = pa.Field(ge=0, le=1440)
    sleep_records: Series[float] = pa.Field(ge=0, le=50)
    minutes_awake: Series[float] = pa.Field(nullable=True, ge=0, le=1440)
    main_sleep_start: Series[pd.DatetimeTZDtype] = pa.Field(nullable=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    main_sleep_end: Series[pd.DatetimeTZDtype] = pa.Field(nullable=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    main_minutes_asleep: Series[float] = pa.Field(nullable=True, ge=0, le=1440)
    main_efficiency: Series[float] = pa.Field(nullable=True, ge=0, le=100)

    @pa.check(*DAILY_INTEGER_COLUMNS, name="is_integer")
    def is_integer(cls, values: Series[float]) -> Series[bool]:
        return values.isna() | (values == np.round(values))

    @pa.dataframe_check(name="asleep_within_time_in_bed")
    def asleep_within_time_in_bed(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame["minutes_asleep"] <= frame["time_in_bed"]

    @pa.dataframe_check(name="no_minutes_without_records")
    def no_minutes_without_records(cls, frame: pd.DataFrame) -> Series[bool]:
        return (frame["sleep_records"] > 0) | ((frame["minutes_asleep"] == 0) & (frame["time_in_bed"] == 0))

    @pa.dataframe_check(name="main_sleep_start_before_end")
    def main_sleep_start_before_end(cls, frame: pd.DataFrame) -> Series[bool]:
        start, end = frame["main_sleep_start"], frame["main_sleep_end"]
        return (start.isna() & end.isna()) | (start < end)

    @pa.dataframe_check(name="main_sleep_within_totals")
    def main_sleep_within_totals(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame["main_minutes_asleep"].isna() | (frame["main_minutes_asleep"] <= frame["minutes_asleep"])

    class Config:
        strict = True
        coerce = False


class SleepMinuteFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    ts: Series[pd.DatetimeTZDtype] = pa.Field(unique=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    local_date: Series[pd.Timestamp]
    log_id: Series[float] = pa.Field(gt=0)
    level: Series[str] = pa.Field(isin=sorted({level for levels in LEVELS.values() for level in levels}))

    @pa.check("ts", name="on_the_minute")
    def on_the_minute(cls, ts: Series[pd.Timestamp]) -> Series[bool]:
        return ts == ts.dt.floor("min")

    @pa.check("log_id", name="is_integer")
    def is_integer(cls, values: Series[float]) -> Series[bool]:
        return values == np.round(values)

    @pa.dataframe_check(name="one_vocabulary_per_log")
    def one_vocabulary_per_log(cls, frame: pd.DataFrame) -> Series[bool]:
        classic = frame["level"].isin(LEVELS["classic"])
        return classic.groupby(frame["log_id"]).transform("nunique") == 1

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="sleep",
    table="sleep_daily",
    columns=DAILY_COLUMNS,
    integer_columns=DAILY_INTEGER_COLUMNS,
    model=SleepDailyFrame,
    generate=generate,
    parse=parse_daily,
    window=None,
    title="Sleep, nightly totals (minutes asleep, time in bed, records, main sleep)",
    source="GET /1.2/user/-/sleep/date/{date}.json",
)

MINUTES_FAMILY = MetricFamily(
    name="sleep_minutes",
    table="sleep_minutes",
    columns=MINUTE_COLUMNS,
    integer_columns=("log_id",),
    model=SleepMinuteFrame,
    generate=generate,
    parse=parse_minutes,
    window=sleep_window,
    title="Sleep, minute-level states (levels.data of each sleep log)",
    source="GET /1.2/user/-/sleep/date/{date}.json",
    landing=FAMILY.name,
)
