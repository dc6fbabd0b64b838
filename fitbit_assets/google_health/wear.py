"""On-wrist minutes (pure): the Google Health API's second wear-time signal next to heart rate.

developers.google.com/health/data-presence-and-true-zeros: for ``steps`` (also distance, floors, altitude, total
calories) a list returns data points only for periods the device was on the wrist; a period worn without movement
is a "true zero", a point with its interval but without ``count``. Gaps mean off the wrist or not synced.
Consecutive syncs can return overlapping intervals, so minutes are the union of the intervals, not their sum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.google_health.client import ResponseShapeError

STEPS_TYPE = "steps"


@dataclass(frozen=True)
class WearDay:
    local_date: dt.date
    on_wrist_minutes: int  # minutes of the local day covered by any steps interval (moving or true zero)
    true_zero_minutes: int  # of those, minutes covered only by intervals without steps


def day_filter(day: LocalDay) -> str:
    start, end = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (day.start_utc, day.end_utc))
    return f'steps.interval.start_time >= "{start}" AND steps.interval.start_time < "{end}"'


def _minutes(intervals: list[tuple[pd.Timestamp, pd.Timestamp]], day: LocalDay) -> np.ndarray:
    """A boolean per minute of the local day: covered by at least one interval."""
    covered = np.zeros(day.seconds // 60, dtype=bool)
    for start, end in intervals:
        first = max(int((start - day.start_utc).total_seconds() // 60), 0)
        last = min(int(np.ceil((end - day.start_utc).total_seconds() / 60)), len(covered))
        if last > first:
            covered[first:last] = True
    return covered


def wear_day(pages: list[dict], day: LocalDay, request: str) -> WearDay | None:
    """The day's on-wrist minutes, or None when the API returned no steps point at all (not synced, or not worn)."""
    moving, still = [], []
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}].steps"
            steps = point.get("steps") if isinstance(point, dict) else None
            interval = steps.get("interval") if isinstance(steps, dict) else None
            if not isinstance(interval, dict):
                raise ResponseShapeError(request, f"field {where}.interval: missing (not a steps point)")
            times = []
            for name in ("startTime", "endTime"):
                value = interval.get(name)
                parsed = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601") if isinstance(value, str) else pd.NaT
                if pd.isna(parsed):
                    raise ResponseShapeError(request, f"field {where}.interval.{name}: expected an RFC 3339 time, got {value!r}")
                times.append(parsed)
            count = steps.get("count")
            if count is not None and (isinstance(count, bool) or not str(count).strip().isdigit()):
                raise ResponseShapeError(request, f"field {where}.count: expected an integer, got {count!r}")
            # A true zero omits count (or sends 0): worn, not moving.
            (moving if count is not None and int(count) > 0 else still).append(tuple(times))
    if not moving and not still:
        return None
    moved, worn = _minutes(moving, day), _minutes(moving + still, day)
    return WearDay(day.local_date, int(worn.sum()), int((worn & ~moved).sum()))
