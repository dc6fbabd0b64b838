"""A participant's local calendar day as a UTC window (23 h, 24 h or 25 h long around DST changes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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
