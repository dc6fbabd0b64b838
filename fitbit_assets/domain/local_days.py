"""A participant's local calendar day as a UTC window (23 h, 24 h or 25 h long around DST changes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LocalDay:
    local_date: dt.date
    timezone: str

    @property
    def start_utc(self) -> pd.Timestamp:
        return pd.Timestamp(self.local_date).tz_localize(ZoneInfo(self.timezone)).tz_convert("UTC")

    @property
    def end_utc(self) -> pd.Timestamp:
        next_day = self.local_date + dt.timedelta(days=1)
        return pd.Timestamp(next_day).tz_localize(ZoneInfo(self.timezone)).tz_convert("UTC")

    @property
    def seconds(self) -> int:
        return int((self.end_utc - self.start_utc).total_seconds())


def fall_back_fold(local_time: pd.Series, zone: ZoneInfo) -> np.ndarray:
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


def constant_utc_offset(day: LocalDay, zone: ZoneInfo) -> pd.Timedelta | None:
    """The zone's UTC offset if it is the same for the whole local day (no DST change), else None.

    Checked every 15 minutes over the day's UTC window, and the day must be exactly 24 h long.
    """
    if day.seconds != 86_400:
        return None
    start = day.start_utc.to_pydatetime()
    offsets = {(start + dt.timedelta(minutes=15 * i)).astimezone(zone).utcoffset() for i in range(97)}
    return pd.Timedelta(offsets.pop()) if len(offsets) == 1 else None
