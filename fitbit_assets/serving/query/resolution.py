"""Which resolution answers a time range within ``max_points`` points (pure: no database).

Resolution ``auto`` picks the finest level whose response holds at most ``max_points`` points:

* ``raw`` is tried only when the range is at most ``max_points`` minutes long, and read with
  ``LIMIT max_points + 1``: if more rows come back the 1-minute level is used. A long range never scans raw
  rows.
* ``1m`` / ``1h`` / ``1d`` are chosen from the number of buckets the range spans (an upper bound of the
  points, whatever the data), read from the rollups ``heart_rate_1m`` / ``_1h`` / ``_1d``.
"""

from __future__ import annotations

import datetime as dt
import math

from fitbit_assets.serving.query.errors import QueryError

DEFAULT_MAX_POINTS = 2000
RESOLUTIONS = ("raw", "1m", "1h", "1d")
BUCKET_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}
UTC = dt.timezone.utc


def as_utc(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bucket_floor(value: dt.datetime, seconds: int) -> dt.datetime:
    epoch = int(value.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def bucket_count(start: dt.datetime, end: dt.datetime, resolution: str) -> int:
    """Buckets of ``resolution`` that overlap [start, end): the most points that level can return."""
    seconds = BUCKET_SECONDS[resolution]
    first = bucket_floor(start, seconds)
    return max(0, math.ceil((end - first).total_seconds() / seconds))


def candidate_resolutions(
    start: dt.datetime, end: dt.datetime, max_points: int, available: tuple[str, ...] = RESOLUTIONS
) -> list[str]:
    """Resolutions to try, finest first, for ``auto``. ``raw`` comes first only when the range is at most
    ``max_points`` minutes (its rows are then read with a LIMIT, so a raw read is always bounded); the
    aggregates come in when their bucket count fits. Raises QueryError if not even 1 day buckets fit."""
    if end <= start:
        raise QueryError("end must be after start")
    fitting = [r for r in available if r != "raw" and bucket_count(start, end, r) <= max_points]
    if not fitting:
        coarsest = [r for r in available if r != "raw"][-1]
        raise QueryError(
            f"{bucket_count(start, end, coarsest)} {coarsest} buckets exceed max_points={max_points}: shorten the range"
        )
    if "raw" in available and (end - start).total_seconds() <= max_points * 60:
        return ["raw"] + fitting
    return fitting


def check_explicit_resolution(
    start: dt.datetime, end: dt.datetime, resolution: str, max_points: int, available: tuple[str, ...] = RESOLUTIONS
) -> None:
    if end <= start:
        raise QueryError("end must be after start")
    if resolution not in available:
        raise QueryError(f"resolution {resolution!r} is not available; use one of {', '.join(available)} or auto")
    if resolution == "raw":
        return  # bounded by LIMIT max_points + 1 at read time
    count = bucket_count(start, end, resolution)
    if count > max_points:
        raise QueryError(f"{count} {resolution} buckets exceed max_points={max_points}: use a coarser resolution or auto")
