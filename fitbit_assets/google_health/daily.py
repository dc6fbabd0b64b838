"""Daily summary data points (pure) -> the Web-API-shaped documents the metric families already parse.

Reference: daily types are listed with the filter ``{daily_summary_data_type}.date >= "YYYY-MM-DD" AND ... <``
(``ListDataPointsRequest.filter``); ``date`` is a ``google.type.Date`` ``{"year", "month", "day"}`` in the user's
time zone. Mapped today:

- ``daily-respiratory-rate`` (``dailyRespiratoryRate.breathsPerMinute``, the main sleep's average) -> family
  ``breathing_rate``: ``{"br": [{"dateTime", "value": {"breathingRate"}}]}``, the Web API's summary form, which the
  family stores as ``full_sleep_breathing_rate``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fitbit_assets.google_health.client import ResponseShapeError


@dataclass(frozen=True)
class DailyType:
    data_type: str  # path identifier (kebab-case)
    field: str  # DataPoint union field (camelCase JSON)
    family: str  # metric family the document feeds

    @property
    def filter_name(self) -> str:
        return self.data_type.replace("-", "_")

    def day_filter(self, local_date: dt.date) -> str:
        following = local_date + dt.timedelta(days=1)
        return f'{self.filter_name}.date >= "{local_date}" AND {self.filter_name}.date < "{following}"'


DAILY_RESPIRATORY_RATE = DailyType("daily-respiratory-rate", "dailyRespiratoryRate", "breathing_rate")
DAILY_TYPES = (DAILY_RESPIRATORY_RATE,)


def _date(value, where: str, request: str) -> dt.date:
    try:
        return dt.date(int(value["year"]), int(value["month"]), int(value["day"]))
    except (TypeError, KeyError, ValueError):
        raise ResponseShapeError(request, f"field {where}.date: expected a {{year, month, day}} date, got {value!r}") from None


def _number(value, where: str, request: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResponseShapeError(request, f"field {where}: expected a number, got {value!r}")
    return float(value)


def breathing_rate_document(pages: list[dict], local_date: dt.date, request: str) -> dict | None:
    """The day's ``breathing_rate`` document, or None when the API has no value for the day (no data yet).

    Several points for one date (re-synced or repeated across pulls) are one value: the last one sent.
    """
    rate = None
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}].{DAILY_RESPIRATORY_RATE.field}"
            value = point.get(DAILY_RESPIRATORY_RATE.field) if isinstance(point, dict) else None
            if not isinstance(value, dict):
                raise ResponseShapeError(request, f"field {where}: missing (not a {DAILY_RESPIRATORY_RATE.data_type} point)")
            if _date(value.get("date"), where, request) == local_date:
                rate = _number(value.get("breathsPerMinute"), f"{where}.breathsPerMinute", request)
    if rate is None:
        return None
    return {"br": [{"dateTime": local_date.isoformat(), "value": {"breathingRate": rate}}]}
