"""Daily rollups (pure) -> the ``activity_summary`` family's document (the Web API's daily activity summary).

Reference (``DailyRollupDataPoint`` value fields, ``dataPoints:dailyRollUp`` over one civil day):

| data type | rollup field | document field |
|---|---|---|
| ``steps`` | ``steps.countSum`` (int64) | ``summary.steps`` |
| ``distance`` | ``distance.millimetersSum`` (int64) | ``summary.distances[{"activity": "total"}].distance`` (km) |
| ``total-calories`` | ``totalCalories.kcalSum`` (number) | ``summary.caloriesOut`` (whole kcal, as the Web API) |
| ``activity-level`` | ``activityLevel.activityLevelRollupsByActivityLevelType[{activityLevelType, totalDuration}]`` | ``sedentaryMinutes``, ``lightlyActiveMinutes``, ``fairlyActiveMinutes`` (MODERATELY_ACTIVE), ``veryActiveMinutes`` |

Rollups leave out intervals a wearable was not worn and keep true zeros, so a day with a value for every type is a
known day (zeros included); a type without a rollup value means nothing synced yet, and the day gets no document
(the family's landing asset reports it as waiting; the trailing window pulls it again). An activity level missing
from a present ``activity-level`` rollup had no time: 0 minutes. The Web API's ``activityCalories`` and
``caloriesBMR`` have no daily rollup in the reference: they are left out, which the family stores as NULL (as for
Fitabase exports).
"""

from __future__ import annotations

import datetime as dt
import re

from fitbit_assets.google_health.client import ResponseShapeError

ROLLUP_TYPES = ("steps", "distance", "total-calories", "activity-level")
LEVEL_FIELDS = {"SEDENTARY": "sedentaryMinutes", "LIGHTLY_ACTIVE": "lightlyActiveMinutes",
                "MODERATELY_ACTIVE": "fairlyActiveMinutes", "VERY_ACTIVE": "veryActiveMinutes"}
_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


def rollup_request(data_type: str, local_date: dt.date) -> str:
    return f"POST /v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp (day {local_date})"


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


def _minutes(value, where: str, request: str) -> int:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ResponseShapeError(request, f"field {where}: expected a duration like \"3600s\", got {value!r}")
    return round(float(match.group(1)) / 60)


def activity_summary_document(pages_by_type: dict[str, list[dict]], local_date: dt.date) -> dict | None:
    """The day's ``activity_summary`` document from the four rollups, or None while any of them has no value."""
    fields = {"steps": "steps", "distance": "distance", "total-calories": "totalCalories",
              "activity-level": "activityLevel"}
    values = {}
    for data_type in ROLLUP_TYPES:
        found = _day_value(pages_by_type[data_type], fields[data_type], local_date, rollup_request(data_type, local_date))
        if found is None:
            return None
        values[data_type] = found
    where, steps = values["steps"]
    summary: dict = {"steps": _integer(steps.get("countSum"), f"{where}.countSum", rollup_request("steps", local_date))}
    where, distance = values["distance"]
    millimetres = _integer(distance.get("millimetersSum"), f"{where}.millimetersSum", rollup_request("distance", local_date))
    summary["distances"] = [{"activity": "total", "distance": millimetres / 1_000_000}]
    where, calories = values["total-calories"]
    summary["caloriesOut"] = round(_number(calories.get("kcalSum"), f"{where}.kcalSum",
                                           rollup_request("total-calories", local_date)))
    where, levels = values["activity-level"]
    level_request = rollup_request("activity-level", local_date)
    rollups = levels.get("activityLevelRollupsByActivityLevelType", [])
    if not isinstance(rollups, list):
        raise ResponseShapeError(level_request, f"field {where}.activityLevelRollupsByActivityLevelType: expected a list")
    minutes = dict.fromkeys(LEVEL_FIELDS.values(), 0)
    for j, rollup in enumerate(rollups):
        item = f"{where}.activityLevelRollupsByActivityLevelType[{j}]"
        level = rollup.get("activityLevelType") if isinstance(rollup, dict) else None
        if level not in LEVEL_FIELDS:
            raise ResponseShapeError(level_request, f"field {item}.activityLevelType: expected one of "
                                     f"{sorted(LEVEL_FIELDS)}, got {level!r}")
        minutes[LEVEL_FIELDS[level]] += _minutes(rollup.get("totalDuration"), f"{item}.totalDuration", level_request)
    summary.update(minutes)
    return {"activities": [], "summary": summary}
