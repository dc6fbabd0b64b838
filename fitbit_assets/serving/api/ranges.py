"""Time and date parameters: the accepted span, and the defaults of the day-based operations (adherence, sleep)."""

import datetime as dt
from typing import Optional

from fastapi import HTTPException

from fitbit_assets.serving.query import as_utc

MIN_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_TIME = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
DEFAULT_DAYS = 90


def check_time(name: str, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """The value in UTC (naive = UTC); 422 outside [MIN_TIME, MAX_TIME)."""
    if value is None:
        return None
    value = as_utc(value)
    if not MIN_TIME <= value < MAX_TIME:
        raise HTTPException(422, f"{name} must be between {MIN_TIME.date()} and {MAX_TIME.date()}")
    return value


def check_date(name: str, value: Optional[dt.date]) -> Optional[dt.date]:
    if value is not None and not MIN_TIME.date() <= value < MAX_TIME.date():
        raise HTTPException(422, f"{name} must be between {MIN_TIME.date()} and {MAX_TIME.date()}")
    return value


def day_range(
    start: Optional[dt.date], end: Optional[dt.date], last: Optional[dt.date], max_range_days: int
) -> tuple[dt.date, dt.date]:
    """The inclusive day range asked for; by default the 90 days ending at ``last`` (the last day with data),
    else today (UTC). 422 when reversed or longer than ``max_range_days``."""
    start, end = check_date("start", start), check_date("end", end)
    end = end or (start + dt.timedelta(days=DEFAULT_DAYS - 1) if start else None) or last
    end = end or dt.datetime.now(dt.timezone.utc).date()
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise HTTPException(422, "end must not be before start")
    if (end - start).days + 1 > max_range_days:
        raise HTTPException(422, f"range longer than {max_range_days} days")
    return start, end
