"""Daily rollups and activity-level intervals (pure) -> the ``activity_summary`` family's document (the Web API's
daily activity summary).

Reference (``DailyRollupDataPoint`` value fields, ``dataPoints:dailyRollUp`` over one civil day; ``activity-level``
is *list / reconcile* only in the per-type operations tables, so its intervals are listed over the local day):

| data type | read | field | document field |
|---|---|---|---|
| ``steps`` | dailyRollUp | ``steps.countSum`` (int64) | ``summary.steps`` |
| ``distance`` | dailyRollUp | ``distance.millimetersSum`` (int64) | ``summary.distances[{"activity": "total"}].distance`` (km) |
| ``total-calories`` | dailyRollUp | ``totalCalories.kcalSum`` (number) | ``summary.caloriesOut`` (whole kcal, as the Web API) |
| ``activity-level`` | list | ``activityLevel{activityLevelType, interval}`` per interval, durations summed per type | ``sedentaryMinutes``, ``lightlyActiveMinutes``, ``fairlyActiveMinutes`` (MODERATELY_ACTIVE), ``veryActiveMinutes`` |

Rollups leave out intervals a wearable was not worn and keep true zeros, so a day with a value for every type is a
known day (zeros included); a type without a rollup value (or a day without any activity-level interval) means
nothing synced yet, and the day gets no document (the family's landing asset reports it as waiting; the trailing
window pulls it again). A level without an interval had no time: 0 minutes; ``ACTIVITY_LEVEL_TYPE_UNSPECIFIED``
intervals count for no level. The Web API's ``activityCalories`` and
``caloriesBMR`` have no daily rollup in the reference: they are left out, which the family stores as NULL (as for
Fitabase exports).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.google_health.client import ResponseShapeError

ROLLUP_TYPES = ("steps", "distance", "total-calories")
ACTIVITY_LEVEL_TYPE = "activity-level"
UNSPECIFIED_LEVEL = "ACTIVITY_LEVEL_TYPE_UNSPECIFIED"
LEVEL_FIELDS = {"SEDENTARY": "sedentaryMinutes", "LIGHTLY_ACTIVE": "lightlyActiveMinutes",
                "MODERATELY_ACTIVE": "fairlyActiveMinutes", "VERY_ACTIVE": "veryActiveMinutes"}


def rollup_request(data_type: str, local_date: dt.date) -> str:
    return f"POST /v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp (day {local_date})"


def activity_level_filter(day: LocalDay) -> str:
    start, end = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (day.start_utc, day.end_utc))
    return f'activity_level.interval.start_time >= "{start}" AND activity_level.interval.start_time < "{end}"'


def level_minutes(pages: list[dict], request: str) -> dict[str, int] | None:
    """Minutes per document field from the listed activity-level intervals (one per start time, the last sent), or
    None without any interval."""
    seconds: dict[str, tuple[str, float]] = {}  # interval start -> (level, seconds)
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}].activityLevel"
            level = point.get("activityLevel") if isinstance(point, dict) else None
            if not isinstance(level, dict):
                raise ResponseShapeError(request, f"field {where}: missing (not an activity-level point)")
            kind = level.get("activityLevelType")
            if kind not in LEVEL_FIELDS and kind != UNSPECIFIED_LEVEL:
                raise ResponseShapeError(request, f"field {where}.activityLevelType: expected one of "
                                         f"{sorted({*LEVEL_FIELDS, UNSPECIFIED_LEVEL})}, got {kind!r}")
            interval = level.get("interval") if isinstance(level.get("interval"), dict) else {}
            start, end = (pd.to_datetime(interval.get(k), utc=True, errors="coerce", format="ISO8601")
                          if isinstance(interval.get(k), str) else pd.NaT for k in ("startTime", "endTime"))
            if pd.isna(start) or pd.isna(end) or end < start:
                raise ResponseShapeError(request, f"field {where}.interval: expected RFC 3339 startTime <= endTime, "
                                         f"got {interval!r}")
            seconds[start.isoformat()] = (kind, (end - start).total_seconds())
    if not seconds:
        return None
    minutes = dict.fromkeys(LEVEL_FIELDS.values(), 0.0)
    for kind, duration in seconds.values():
        if kind in LEVEL_FIELDS:
            minutes[LEVEL_FIELDS[kind]] += duration / 60
    return {field: round(value) for field, value in minutes.items()}


def _day_value(pages: list[dict], field: str, local_date: dt.date, request: str) -> tuple[str, dict] | None:
    """(where, value) of the day's rollup point (the last one sent), or None when the day has no value."""
    found = None
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("rollupDataPoints", [])):
            where = f"page {p + 1} rollupDataPoints[{i}]"
            start = point.get("civilStartTime") if isinstance(point, dict) else None
            date = start.get("date") if isinstance(start, dict) else None
            try:
                point_date = dt.date(int(date["year"]), int(date["month"]), int(date["day"]))
            except (TypeError, KeyError, ValueError):
                raise ResponseShapeError(request, f"field {where}.civilStartTime.date: expected a {{year, month, day}} "
                                         f"date, got {date!r}") from None
            value = point.get(field)
            if point_date != local_date or value is None:
                continue
            if not isinstance(value, dict):
                raise ResponseShapeError(request, f"field {where}.{field}: expected an object, got {value!r}")
            found = (f"{where}.{field}", value)
    return found


def _integer(value, where: str, request: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ResponseShapeError(request, f"field {where}: expected a non-negative integer, got {value!r}")
    return int(value)


def _number(value, where: str, request: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ResponseShapeError(request, f"field {where}: expected a non-negative number, got {value!r}")
    return float(value)


def activity_summary_document(pages_by_type: dict[str, list[dict]], level_pages: list[dict], day: LocalDay,
                               level_request: str) -> dict | None:
    """The day's ``activity_summary`` document from the three rollups and the listed activity levels, or None while
    any of them has no value."""
    local_date = day.local_date
    fields = {"steps": "steps", "distance": "distance", "total-calories": "totalCalories"}
    values = {}
    for data_type in ROLLUP_TYPES:
        found = _day_value(pages_by_type[data_type], fields[data_type], local_date, rollup_request(data_type, local_date))
        if found is None:
            return None
        values[data_type] = found
    minutes = level_minutes(level_pages, level_request)
    if minutes is None:
        return None
    where, steps = values["steps"]
    summary: dict = {"steps": _integer(steps.get("countSum"), f"{where}.countSum", rollup_request("steps", local_date))}
    where, distance = values["distance"]
    millimetres = _integer(distance.get("millimetersSum"), f"{where}.millimetersSum", rollup_request("distance", local_date))
    summary["distances"] = [{"activity": "total", "distance": millimetres / 1_000_000}]
    where, calories = values["total-calories"]
    summary["caloriesOut"] = round(_number(calories.get("kcalSum"), f"{where}.kcalSum",
                                           rollup_request("total-calories", local_date)))
    summary.update(minutes)
    return {"activities": [], "summary": summary}
