"""Sleep sessions (pure) -> the ``sleep`` family's document, the Fitbit Web API v1.2 "Get Sleep Log by Date" shape.

Reference (``google/devicesandservices/health/v4/data_model.proto``, message ``Sleep``): ``{"interval": {"startTime",
"endTime", ...}, "type": "CLASSIC"|"STAGES", "stages": [{"startTime", "endTime", "type"}], "metadata": {"nap"},
"summary": {"minutesInSleepPeriod", "minutesAsleep", "minutesAwake", "minutesAfterWakeUp"}}``; listed with
``sleep.interval.end_time >= … AND … <`` (at most 25 per page). A sleep belongs to the local date it ends on (the
Web API's ``dateOfSleep``), in the participant's roster time zone, like every other local time of the pipeline.

``isMainSleep`` is Google's ``metadata.mainSleep`` (the longest sleep with stages of its day; proto3 JSON omits a
false). Derived where the Web API had a field Google does not: ``logId`` (the data point id when numeric, else a
stable 63-bit hash of it), ``efficiency`` (100 x minutesAsleep / timeInBed). Stage boundaries are rounded to the
minute, since the document's levels are runs of whole minutes.

Stage types (``SleepStage.type``, every documented value accepted): a sleep whose stages are all AWAKE, LIGHT, DEEP or
REM is a ``stages`` document (wake/light/deep/rem); any other mix (a CLASSIC sleep, or a STAGES sleep with an ASLEEP
or RESTLESS segment) is a ``classic`` document: AWAKE -> awake, RESTLESS -> restless, ASLEEP/LIGHT/DEEP/REM ->
asleep. A ``SLEEP_STAGE_TYPE_UNSPECIFIED`` segment is a stretch the device did not classify: wake (stages) or awake
(classic), as the pipeline treats unseen minutes everywhere, so the levels still cover the whole sleep.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.google_health.client import ResponseShapeError

SLEEP_TYPE = "sleep"
PAGE_SIZE = 25  # the documented maximum for sleep and exercise
UNSPECIFIED_STAGE = "SLEEP_STAGE_TYPE_UNSPECIFIED"
CLASSIC_LEVELS = {"AWAKE": "awake", "RESTLESS": "restless", "ASLEEP": "asleep", "LIGHT": "asleep", "DEEP": "asleep",
                  "REM": "asleep", UNSPECIFIED_STAGE: "awake"}
STAGES_LEVELS = {"AWAKE": "wake", "LIGHT": "light", "DEEP": "deep", "REM": "rem", UNSPECIFIED_STAGE: "wake"}


def day_filter(day: LocalDay) -> str:
    start, end = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (day.start_utc, day.end_utc))
    return f'sleep.interval.end_time >= "{start}" AND sleep.interval.end_time < "{end}"'


def _time(value, where: str, request: str, zone: str) -> pd.Timestamp:
    parsed = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601") if isinstance(value, str) else pd.NaT
    if pd.isna(parsed):
        raise ResponseShapeError(request, f"field {where}: expected an RFC 3339 time, got {value!r}")
    return parsed.tz_convert(zone).tz_localize(None)


def _int(value, where: str, request: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise ResponseShapeError(request, f"field {where}: expected an integer, got {value!r}")
    return int(value)


def _local(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000")


def _log_id(name: str) -> int:
    point = name.rsplit("/", 1)[-1]
    return int(point) if point.isdigit() else int(hashlib.sha256(point.encode()).hexdigest()[:15], 16)


def _levels(stages: list, sleep_type: str, where: str, request: str, zone: str) -> list[dict]:
    names = CLASSIC_LEVELS if sleep_type == "classic" else STAGES_LEVELS
    runs: list[list] = []  # [level, start, end] in local minutes, consecutive equal levels merged
    for s, stage in enumerate(stages):
        here = f"{where}.stages[{s}]"
        if not isinstance(stage, dict) or stage.get("type") not in names:
            got = stage.get("type") if isinstance(stage, dict) else stage
            raise ResponseShapeError(request, f"field {here}.type: expected one of "
                                              f"{sorted(CLASSIC_LEVELS)}, got {got!r}")
        start = _time(stage.get("startTime"), f"{here}.startTime", request, zone).round("min")
        end = _time(stage.get("endTime"), f"{here}.endTime", request, zone).round("min")
        if end <= start:
            continue  # shorter than a minute after rounding
        if runs and runs[-1][0] == names[stage["type"]] and runs[-1][2] == start:
            runs[-1][2] = end
        else:
            runs.append([names[stage["type"]], start, end])
    return [{"dateTime": _local(start), "level": level, "seconds": int((end - start).total_seconds())}
            for level, start, end in runs]


def sleep_document(pages: list[dict], day: LocalDay, request: str) -> dict | None:
    """The day's ``sleep`` family document, or None when no sleep ended on the day (no data yet)."""
    sessions: dict[str, tuple[str, dict]] = {}  # by data point name: a session repeated across pages is one sleep
    for p, page in enumerate(pages):
        for i, point in enumerate(page.get("dataPoints", [])):
            where = f"page {p + 1} dataPoints[{i}].sleep"
            sleep = point.get("sleep") if isinstance(point, dict) else None
            if not isinstance(sleep, dict):
                raise ResponseShapeError(request, f"field {where}: missing (not a sleep point)")
            sessions[str(point.get("name") or f"{p}/{i}")] = (where, sleep)
    entries = []
    for name, (where, sleep) in sessions.items():
        interval = sleep.get("interval")
        if not isinstance(interval, dict):
            raise ResponseShapeError(request, f"field {where}.interval: missing")
        start = _time(interval.get("startTime"), f"{where}.interval.startTime", request, day.timezone)
        end = _time(interval.get("endTime"), f"{where}.interval.endTime", request, day.timezone)
        if end.date() != day.local_date:
            continue  # the filter is by physical time; a DST or zone edge can still put it on another local date
        stage_types = {stage.get("type") for stage in sleep.get("stages") or [] if isinstance(stage, dict)}
        staged = sleep.get("type") != "CLASSIC" and stage_types <= set(STAGES_LEVELS)
        sleep_type = "stages" if staged else "classic"
        summary = sleep.get("summary") or {}
        levels = _levels(sleep.get("stages") or [], sleep_type, where, request, day.timezone)
        in_bed = _int(summary.get("minutesInSleepPeriod"), f"{where}.summary.minutesInSleepPeriod", request)
        in_bed = in_bed if in_bed is not None else int((end - start).total_seconds() // 60)
        asleep_levels = {"asleep"} if sleep_type == "classic" else {"light", "deep", "rem"}
        from_levels = sum(level["seconds"] for level in levels if level["level"] in asleep_levels) // 60
        asleep = _int(summary.get("minutesAsleep"), f"{where}.summary.minutesAsleep", request)
        asleep = asleep if asleep is not None else from_levels
        awake = _int(summary.get("minutesAwake"), f"{where}.summary.minutesAwake", request)
        awake = awake if awake is not None else max(in_bed - asleep, 0)
        level_summary: dict[str, dict] = {}
        for level in levels:
            entry = level_summary.setdefault(level["level"], {"count": 0, "minutes": 0})
            entry["count"] += 1
            entry["minutes"] += level["seconds"] // 60
        entries.append({
            "logId": _log_id(name), "dateOfSleep": day.local_date.isoformat(),
            "startTime": _local(start), "endTime": _local(end),
            "duration": int((end - start).total_seconds() * 1000),
            "minutesAsleep": asleep, "minutesAwake": awake, "timeInBed": in_bed,
            "efficiency": round(100 * asleep / in_bed) if in_bed else 0,
            "isMainSleep": (sleep.get("metadata") or {}).get("mainSleep") is True, "type": sleep_type,
            "levels": {"data": levels, "summary": level_summary},
        })
    if not entries:
        return None
    main = [e for e in entries if e["isMainSleep"]]
    for entry in sorted(main, key=lambda e: (e["duration"], e["startTime"]))[:-1]:
        entry["isMainSleep"] = False  # two Google days' main sleeps ending on one local date: the longer stays main
    entries.sort(key=lambda e: e["startTime"])
    return {
        "sleep": entries,
        "summary": {"totalMinutesAsleep": sum(e["minutesAsleep"] for e in entries),
                    "totalSleepRecords": len(entries),
                    "totalTimeInBed": sum(e["timeInBed"] for e in entries)},
    }
