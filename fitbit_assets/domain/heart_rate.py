"""Heart rate: raw CSV -> UTC frame -> Pandera validation. Pure functions, no Dagster, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay, constant_utc_offset, fall_back_fold
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN
from fitbit_assets.domain.validation import ValidationReport

# The dataset's folder in the landing folder and the Parquet store; each metric family has its own.
HEART_RATE = "heart_rate"
RAW_COLUMNS = ["time", "value"]
RAW_COLUMNS_WITH_CONFIDENCE = ["time", "value", "confidence"]  # Takeout exports keep Fitbit's 0-3 confidence
MIN_BPM, MAX_BPM = 25, 250


class RawFileError(ValueError):
    """A raw file that cannot be read as the expected format at all (not a row-level defect)."""


def read_raw_heart_rate(path: Path) -> pd.DataFrame:
    """Read a ``time,value`` CSV as strings; row-level defects are left for validation to report."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise RawFileError(f"{path}: empty file, expected a header line 'time,value'") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RawFileError(f"{path}: not a valid CSV ({exc})") from None
    if list(raw.columns) not in (RAW_COLUMNS, RAW_COLUMNS_WITH_CONFIDENCE):
        raise RawFileError(f"{path}: header is {list(raw.columns)}, expected {RAW_COLUMNS}")
    return raw


def to_utc_frame(raw: pd.DataFrame, participant_id: str, day: LocalDay) -> pd.DataFrame:
    """Local wall-clock rows of one participant-day -> ``participant_id, ts (UTC), bpm, local_time``.

    Unparseable times, times that do not exist locally (spring-forward gap) and non-numeric values become
    nulls here, so validation reports them with their rows instead of failing on the first one.
    """
    zone = ZoneInfo(day.timezone)
    local_time = pd.to_datetime(
        day.local_date.isoformat() + " " + raw["time"].str.strip(), format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    offset = constant_utc_offset(day, zone)
    if offset is not None:
        # No DST change on this day: local -> UTC is one subtraction (pandas' per-row ZoneInfo path took ~1 s/day).
        ts = (local_time - offset).dt.tz_localize("UTC")
    else:
        ts = local_time.dt.tz_localize(zone, ambiguous=fall_back_fold(local_time, zone), nonexistent="NaT")
    frame = pd.DataFrame(
        {
            "participant_id": pd.Series(participant_id, index=raw.index, dtype=str),
            "ts": ts.dt.tz_convert("UTC"),
            "bpm": pd.to_numeric(raw["value"].str.strip(), errors="coerce").astype("float64"),
            "local_time": local_time,
        }
    )
    if "confidence" in raw:  # optional; empty cells are null
        frame["confidence"] = pd.to_numeric(raw["confidence"].str.strip(), errors="coerce").astype("float64")
    return frame


class HeartRateFrame(pa.DataFrameModel):
    """One participant-day of heart rate in UTC. The local-day window rule is added per day, see below."""

    participant_id: Series[str] = pa.Field(nullable=False, str_matches=PARTICIPANT_ID_PATTERN.pattern)
    ts: Series[pd.DatetimeTZDtype] = pa.Field(nullable=False, unique=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    bpm: Series[float] = pa.Field(nullable=False, ge=MIN_BPM, le=MAX_BPM)
    local_time: Series[pd.Timestamp] = pa.Field(nullable=True)
    confidence: Optional[Series[float]] = pa.Field(nullable=True, isin=[0.0, 1.0, 2.0, 3.0])  # Takeout only

    @pa.check("bpm", name="bpm_is_integer")
    def bpm_is_integer(cls, bpm: Series[float]) -> Series[bool]:
        return bpm.isna() | (bpm == np.round(bpm))

    @pa.check("ts", name="ts_strictly_increasing")
    def ts_strictly_increasing(cls, ts: Series) -> Series[bool]:
        step = ts.diff()
        return step.isna() | (step > pd.Timedelta(0))

    class Config:
        strict = True
        coerce = False


def heart_rate_schema(day: LocalDay) -> pa.DataFrameSchema:
    """The model plus the rule that every timestamp falls inside this participant's local day."""
    schema = HeartRateFrame.to_schema()
    inside_day = pa.Check(
        lambda ts: ts.isna() | ((ts >= day.start_utc) & (ts < day.end_utc)),
        name="inside_local_day",
    )
    return schema.update_column("ts", checks=[*schema.columns["ts"].checks, inside_day])


def validate_heart_rate(frame: pd.DataFrame, day: LocalDay, max_samples: int = 10) -> ValidationReport:
    try:
        heart_rate_schema(day).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases.assign(rule=cases["column"].fillna("frame").astype(str) + "." + cases["check"].astype(str))
        failures = cases.groupby("rule", sort=True).size().astype(int).to_dict()
        samples = []
        for rule, group in cases.groupby("rule", sort=True):
            for index in group["index"].dropna().head(max_samples).astype(int):
                row = frame.loc[index]
                samples.append(
                    {
                        "rule": rule,
                        "csv_line": int(index) + 2,  # header is line 1
                        "local_time": None if pd.isna(row["local_time"]) else str(row["local_time"]),
                        "ts": None if pd.isna(row["ts"]) else row["ts"].isoformat(),
                        "bpm": None if pd.isna(row["bpm"]) else float(row["bpm"]),
                    }
                )
        return ValidationReport(len(frame), failures, samples)
    return ValidationReport(len(frame))


def to_warehouse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The validated frame as stored: compact integer bpm, local wall time kept for lineage."""
    return frame.astype({"bpm": "int16"})

