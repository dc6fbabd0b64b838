"""The two sleep tables from a parsed document, ``sleep_daily`` (nightly totals, one row per participant-day) and
``sleep_minutes`` (the state of each minute), and their value rules (the Pandera models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.family import empty_frame, local_dates
from fitbit_assets.domain.metrics.sleep.document import LEVELS, UTC_NS, parse_document
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN

DAILY_COLUMNS = (
    "participant_id", "local_date", "minutes_asleep", "time_in_bed", "sleep_records", "minutes_awake",
    "main_sleep_start", "main_sleep_end", "main_minutes_asleep", "main_efficiency",
)
DAILY_INTEGER_COLUMNS = ("minutes_asleep", "time_in_bed", "sleep_records", "minutes_awake", "main_minutes_asleep",
                         "main_efficiency")
MINUTE_COLUMNS = ("participant_id", "ts", "local_date", "log_id", "level")


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
