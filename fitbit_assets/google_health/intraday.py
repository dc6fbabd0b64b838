"""Intraday data points (pure) -> the Web-API-shaped documents of the ``spo2`` and ``active_zone_minutes`` families.

Reference (``DataPoint`` union fields, developers.google.com/health/data-types):

- ``oxygen-saturation`` (Sample, ``.health_metrics_and_measurements``): ``{"oxygenSaturation": {"percentage": double
  0-100, "sampleTime": {"physicalTime", "utcOffset"}}}``, listed with ``oxygen_saturation.sample_time.physical_time``
  filters. -> family ``spo2``: ``{"dateTime", "minutes": [{"value", "minute": local time}]}``. Fitbit measures SpO2
  during sleep and the family attaches a night to its wake-up date, so a day takes the samples from the previous
  local noon to its own local noon: each sample belongs to exactly one night (the family's table key is the time),
  inside the family's window (previous noon .. day end). A sleep that runs past noon (day sleepers) has its
  afternoon part on the next day.
- ``active-zone-minutes`` (Interval, 1-minute storage resolution, ``.activity_and_fitness``): ``{"activeZoneMinutes":
  {"interval": {"startTime", "endTime", ...}, "heartRateZone": "FAT_BURN"|"CARDIO"|"PEAK", "activeZoneMinutes":
  int64}}``, listed with ``active_zone_minutes.interval.start_time`` filters over the local day. -> family
  ``active_zone_minutes``: ``{"activities-active-zone-minutes-intraday": [{"dateTime", "minutes": [{"minute",
  "value": {"activeZoneMinutes", "<zone>ActiveZoneMinutes"}}]}]}``, one entry per interval start.

A minute in ``HEART_RATE_ZONE_UNSPECIFIED`` (a documented value) earned no zone the family can hold (each minute has
exactly one of fat burn, cardio, peak): it is left out, not an error.

Both: no point, no document (nothing known yet, the family's landing asset reports the day as waiting); a point
repeated at the same time (overlapping pages, a re-sync) is kept once, the last one sent; values are passed on as
sent, so the family's own validation judges them (range, whole minutes, zone credit).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.active_zone_minutes import API_ZONES
from fitbit_assets.domain.metrics.active_zone_minutes import KEY as AZM_KEY
from fitbit_assets.google_health.client import ResponseShapeError

OXYGEN_SATURATION_TYPE = "oxygen-saturation"
ACTIVE_ZONE_MINUTES_TYPE = "active-zone-minutes"
ZONE_FIELDS = {"FAT_BURN": API_ZONES["fat_burn"], "CARDIO": API_ZONES["cardio"], "PEAK": API_ZONES["peak"]}
UNSPECIFIED_ZONE = "HEART_RATE_ZONE_UNSPECIFIED"
LOCAL_MINUTE = "%Y-%m-%dT%H:%M:%S"  # the Web API's local "minute" stamps, which the families parse


def _utc(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_noon_utc(local_date: dt.date, timezone: str) -> pd.Timestamp:
    return (pd.Timestamp(local_date) + pd.Timedelta(hours=12)).tz_localize(timezone).tz_convert("UTC")


def spo2_window(day: LocalDay) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The night before the day: previous local noon to the day's local noon (UTC)."""
    return _local_noon_utc(day.local_date - dt.timedelta(days=1), day.timezone), _local_noon_utc(day.local_date, day.timezone)


def spo2_filter(day: LocalDay) -> str:
    start, end = (_utc(t) for t in spo2_window(day))
    return (f'oxygen_saturation.sample_time.physical_time >= "{start}" '
            f'AND oxygen_saturation.sample_time.physical_time < "{end}"')


def azm_filter(day: LocalDay) -> str:
    start, end = _utc(day.start_utc), _utc(day.end_utc)
    return f'active_zone_minutes.interval.start_time >= "{start}" AND active_zone_minutes.interval.start_time < "{end}"'


def _points(pages: list[dict], field: str, data_type: str, request: str):
    """(where, the point's ``field`` object) of every point of every page, in page order."""
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}].{field}"
            value = point.get(field) if isinstance(point, dict) else None
            if not isinstance(value, dict):
                raise ResponseShapeError(request, f"field {where}: missing (not a {data_type} point)")
            yield where, value


def _time(value, where: str, request: str) -> pd.Timestamp:
    parsed = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601") if isinstance(value, str) else pd.NaT
    if pd.isna(parsed):
        raise ResponseShapeError(request, f"field {where}: expected an RFC 3339 time, got {value!r}")
    return parsed


def _latest_per_time(times: list[pd.Timestamp], values: list, start: pd.Timestamp, end: pd.Timestamp,
                     timezone: str) -> list[tuple[str, object]]:
    """(local stamp, value) inside [start, end), one per time (the last one sent), chronological: the order the
    family needs to place a repeated fall-back hour."""
    latest = {t: v for t, v in zip(times, values) if start <= t < end}
    return [(t.tz_convert(timezone).strftime(LOCAL_MINUTE), latest[t]) for t in sorted(latest)]


def spo2_document(pages: list[dict], day: LocalDay, request: str) -> dict | None:
    times, values = [], []
    for where, saturation in _points(pages, "oxygenSaturation", OXYGEN_SATURATION_TYPE, request):
        sample_time = saturation.get("sampleTime")
        physical = sample_time.get("physicalTime") if isinstance(sample_time, dict) else None
        times.append(_time(physical, f"{where}.sampleTime.physicalTime", request))
        percentage = saturation.get("percentage")
        if isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
            raise ResponseShapeError(request, f"field {where}.percentage: expected a number, got {percentage!r}")
        values.append(float(percentage))
    minutes = _latest_per_time(times, values, *spo2_window(day), day.timezone)
    if not minutes:
        return None
    return {"dateTime": day.local_date.isoformat(), "minutes": [{"value": v, "minute": m} for m, v in minutes]}


def azm_document(pages: list[dict], day: LocalDay, request: str) -> dict | None:
    times, values = [], []
    for where, azm in _points(pages, "activeZoneMinutes", ACTIVE_ZONE_MINUTES_TYPE, request):
        interval = azm.get("interval")
        start = interval.get("startTime") if isinstance(interval, dict) else None
        zone = azm.get("heartRateZone")
        if zone == UNSPECIFIED_ZONE:
            continue
        if zone not in ZONE_FIELDS:
            raise ResponseShapeError(request, f"field {where}.heartRateZone: expected one of "
                                     f"{sorted({*ZONE_FIELDS, UNSPECIFIED_ZONE})}, got {zone!r}")
        times.append(_time(start, f"{where}.interval.startTime", request))
        credit = azm.get("activeZoneMinutes")  # int64: a string in the JSON mapping, or a number
        if isinstance(credit, bool) or not isinstance(credit, (int, str)) or not str(credit).strip().isdigit():
            raise ResponseShapeError(request, f"field {where}.activeZoneMinutes: expected an integer, got {credit!r}")
        values.append({"activeZoneMinutes": int(credit), ZONE_FIELDS[zone]: int(credit)})
    minutes = _latest_per_time(times, values, day.start_utc, day.end_utc, day.timezone)
    if not minutes:
        return None
    return {AZM_KEY: [{"dateTime": day.local_date.isoformat(),
                       "minutes": [{"minute": m, "value": v} for m, v in minutes]}]}
