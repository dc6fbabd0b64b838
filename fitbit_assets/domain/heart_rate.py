"""Heart rate: raw CSV -> UTC frame -> Pandera validation. Pure functions, no Dagster, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN

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


def _fall_back_fold(local_time: pd.Series, zone: ZoneInfo) -> np.ndarray:
    """For each row, True while still in the first (DST) pass of a repeated fall-back hour.

    The file is chronological, so the repeated hour shows up as a step back in wall-clock time that lands
    inside the ambiguous hour: rows before that step are DST, rows from it on are standard time.
    """
    ambiguous = local_time.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").isna()
    ambiguous &= local_time.notna()
    first_pass = np.ones(len(local_time), dtype=bool)
    steps_back = np.flatnonzero((local_time.diff() < pd.Timedelta(0)).to_numpy() & ambiguous.to_numpy())
    if steps_back.size:
        first_pass[steps_back[0] :] = False
    return first_pass


def _constant_utc_offset(day: LocalDay, zone: ZoneInfo) -> pd.Timedelta | None:
    """The zone's UTC offset if it is the same for the whole local day (no DST change), else None.

    Checked every 15 minutes over the day's UTC window, and the day must be exactly 24 h long.
    """
    if day.seconds != 86_400:
        return None
    start = day.start_utc.to_pydatetime()
    offsets = {(start + dt.timedelta(minutes=15 * i)).astimezone(zone).utcoffset() for i in range(97)}
    return pd.Timedelta(offsets.pop()) if len(offsets) == 1 else None


def to_utc_frame(raw: pd.DataFrame, participant_id: str, day: LocalDay) -> pd.DataFrame:
    """Local wall-clock rows of one participant-day -> ``participant_id, ts (UTC), bpm, local_time``.

    Unparseable times, times that do not exist locally (spring-forward gap) and non-numeric values become
    nulls here, so validation reports them with their rows instead of failing on the first one.
    """
    zone = ZoneInfo(day.timezone)
    local_time = pd.to_datetime(
        day.local_date.isoformat() + " " + raw["time"].str.strip(), format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    offset = _constant_utc_offset(day, zone)
    if offset is not None:
        # No DST change on this day: local -> UTC is one subtraction (pandas' per-row ZoneInfo path took ~1 s/day).
        ts = (local_time - offset).dt.tz_localize("UTC")
    else:
        ts = local_time.dt.tz_localize(zone, ambiguous=_fall_back_fold(local_time, zone), nonexistent="NaT")
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


@dataclass
class ValidationReport:
    """What Pandera found, in a form that fits asset-check metadata and a JSON file."""

    rows: int
    failures: dict[str, int] = field(default_factory=dict)  # rule -> failing rows
    samples: list[dict] = field(default_factory=list)  # a few failing rows with their rule
    input_fingerprint: Optional[str] = None  # of the raw file validated (study_files.input_fingerprint)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.passed:
            return f"{self.rows} rows passed all rules"
        return "; ".join(f"{rule}: {count} rows" for rule, count in self.failures.items())

    def to_dict(self) -> dict:
        return {"rows": self.rows, "passed": self.passed, "failures": self.failures, "samples": self.samples,
                "input_fingerprint": self.input_fingerprint}

    @classmethod
    def from_dict(cls, payload: dict) -> "ValidationReport":
        return cls(payload["rows"], dict(payload["failures"]), list(payload["samples"]), payload.get("input_fingerprint"))


def file_error_report(error: Exception) -> ValidationReport:
    """The report of a file that could not be read at all (its error names the file)."""
    return ValidationReport(0, {"file.readable": 1}, [{"rule": "file.readable", "error": str(error)}])


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

