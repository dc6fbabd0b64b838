"""Heart-rate data points (pure): shape check, local day, duplicates -> the day CSV every source produces.

A heart-rate point (reference ``DataPoint.heartRate``): ``{"name", "dataSource", "heartRate": {"beatsPerMinute",
"sampleTime": {"physicalTime": RFC 3339, "utcOffset": "<seconds>s", "civilTime"}}}``. ``beatsPerMinute`` is an
int64, which the JSON mapping of protocol buffers may send as a string.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.sources.base import samples_frame
from fitbit_assets.google_health.client import ResponseShapeError


@dataclass(frozen=True)
class DaySamples:
    samples: pd.DataFrame  # the Samples frame of the day (sources.base), sorted, one per physical time
    points: int  # data points received, duplicates included
    duplicates: int  # repeated physical times dropped (overlapping pages or pulls)
    outside_day: int  # points the server sent from outside the requested local day


def _bpm(value, where: str, request: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ResponseShapeError(request, f"field {where}.heartRate.beatsPerMinute: expected an integer, got {value!r}")
    return int(value)


def parse_pages(pages: list[dict], request: str) -> pd.DataFrame:
    """``physical_time`` (UTC) and ``bpm`` of every point of every page, in page order."""
    times, values = [], []
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}]"
            heart_rate = point.get("heartRate") if isinstance(point, dict) else None
            if not isinstance(heart_rate, dict):
                raise ResponseShapeError(request, f"field {where}.heartRate: missing (not a heart-rate point)")
            sample_time = heart_rate.get("sampleTime")
            physical = sample_time.get("physicalTime") if isinstance(sample_time, dict) else None
            if not isinstance(physical, str):
                raise ResponseShapeError(request, f"field {where}.heartRate.sampleTime.physicalTime: missing")
            times.append(physical)
            values.append(_bpm(heart_rate.get("beatsPerMinute"), where, request))
    parsed = pd.to_datetime(pd.Series(times, dtype="object"), utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        bad = int(parsed.isna().to_numpy().nonzero()[0][0])
        raise ResponseShapeError(request, f"field heartRate.sampleTime.physicalTime: {times[bad]!r} is not RFC 3339")
    return pd.DataFrame({"physical_time": parsed, "bpm": pd.Series(values, dtype="int64")})


def day_samples(pages: list[dict], day: LocalDay, request: str) -> DaySamples:
    """The local day's samples in the participant's roster zone, one per second, sorted (what the day CSV holds).

    A point repeated at the same physical time (overlapping pages, a re-sync) is kept once, the last one sent.
    """
    points = parse_pages(pages, request)
    inside = (points["physical_time"] >= day.start_utc) & (points["physical_time"] < day.end_utc)
    kept = points[inside]
    deduplicated = kept.drop_duplicates("physical_time", keep="last").sort_values("physical_time", kind="stable")
    local = deduplicated["physical_time"].dt.tz_convert(day.timezone).dt.tz_localize(None)
    samples = samples_frame(local.reset_index(drop=True), deduplicated["bpm"].reset_index(drop=True),
                            pd.Series(range(1, len(local) + 1)))
    return DaySamples(
        samples,
        points=len(points), duplicates=len(kept) - len(deduplicated), outside_day=int((~inside).sum()),
    )


def day_filter(day: LocalDay) -> str:
    """The list filter for one local day: physical sample time in [local midnight, next local midnight)."""
    start = day.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = day.end_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'heart_rate.sample_time.physical_time >= "{start}" AND heart_rate.sample_time.physical_time < "{end}"'
