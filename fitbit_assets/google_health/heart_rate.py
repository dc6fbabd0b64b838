"""Heart-rate data points (pure): shape check, local day, duplicates -> the day CSV every source produces.

A heart-rate point (reference ``DataPoint.heartRate``): ``{"name", "dataSource", "heartRate": {"beatsPerMinute",
"sampleTime": {"physicalTime": RFC 3339, "utcOffset": "<seconds>s", "civilTime"}}}``. ``beatsPerMinute`` is an
int64, which the JSON mapping of protocol buffers may send as a string.

Which local day a sample belongs to (one rule for every list-read type): its physical time in the participant's
roster time zone. ``utcOffset`` is the device's own offset at the sample: where it differs from the roster zone's
offset at that instant (travel, or a wrong roster zone) the samples are kept on the roster's day and counted in
``DaySamples.offset_mismatches`` with the offset the device reported, which the pull reports so the coordinator can
correct the roster (the daily rollups, by contrast, follow the user's own civil day).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.sources.samples import samples_frame
from fitbit_assets.google_health.client import ResponseShapeError


@dataclass(frozen=True)
class DaySamples:
    samples: pd.DataFrame  # the Samples frame of the day (sources.samples), sorted, one per physical time
    points: int  # data points received, duplicates included
    duplicates: int  # repeated physical times dropped (overlapping pages or pulls)
    outside_day: int  # points the server sent from outside the requested local day
    offset_mismatches: int = 0  # samples of the day whose utcOffset is not the roster zone's offset
    device_offset: str | None = None  # the most frequent such utcOffset, as sent (e.g. "-18000s")


def _bpm(value, where: str, request: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ResponseShapeError(request, f"field {where}.heartRate.beatsPerMinute: expected an integer, got {value!r}")
    return int(value)


def _offset_seconds(value) -> float:
    """``"3600s"`` -> 3600.0; NaN when the offset is missing or not a duration (it is informational only)."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            pass
    return float("nan")


def parse_pages(pages: list[dict], request: str) -> pd.DataFrame:
    """``physical_time`` (UTC), ``bpm`` and ``utc_offset`` (seconds, NaN if absent) of every point, in page order."""
    times, values, offsets = [], [], []
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
            offsets.append(_offset_seconds(sample_time.get("utcOffset")))
    parsed = pd.to_datetime(pd.Series(times, dtype="object"), utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        bad = int(parsed.isna().to_numpy().nonzero()[0][0])
        raise ResponseShapeError(request, f"field heartRate.sampleTime.physicalTime: {times[bad]!r} is not RFC 3339")
    return pd.DataFrame({"physical_time": parsed, "bpm": pd.Series(values, dtype="int64"),
                         "utc_offset": pd.Series(offsets, dtype="float64")})


def day_samples(pages: list[dict], day: LocalDay, request: str) -> DaySamples:
    """The local day's samples in the participant's roster zone, one per second, sorted (what the day CSV holds).

    A point repeated at the same physical time (overlapping pages, a re-sync) is kept once, the last one sent.
    """
    points = parse_pages(pages, request)
    inside = (points["physical_time"] >= day.start_utc) & (points["physical_time"] < day.end_utc)
    kept = points[inside]
    deduplicated = kept.drop_duplicates("physical_time", keep="last").sort_values("physical_time", kind="stable")
    local = deduplicated["physical_time"].dt.tz_convert(day.timezone).dt.tz_localize(None)
    roster_offset = (local - deduplicated["physical_time"].dt.tz_localize(None)).dt.total_seconds()
    differs = deduplicated["utc_offset"].notna() & (deduplicated["utc_offset"] != roster_offset)
    device_offset = None
    if differs.any():
        device_offset = f"{int(deduplicated.loc[differs, 'utc_offset'].mode().iloc[0])}s"
    samples = samples_frame(local.reset_index(drop=True), deduplicated["bpm"].reset_index(drop=True),
                            pd.Series(range(1, len(local) + 1)))
    return DaySamples(
        samples,
        points=len(points), duplicates=len(kept) - len(deduplicated), outside_day=int((~inside).sum()),
        offset_mismatches=int(differs.sum()), device_offset=device_offset,
    )


def day_filter(day: LocalDay) -> str:
    """The list filter for one local day: physical sample time in [local midnight, next local midnight)."""
    start = day.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = day.end_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'heart_rate.sample_time.physical_time >= "{start}" AND heart_rate.sample_time.physical_time < "{end}"'
