"""Saved Fitbit Web API responses: ``GET /1/user/-/activities/heart/date/{date}/1d/1sec.json`` (or 1min).

``{"activities-heart": [{"dateTime": "2020-10-07", ...}], "activities-heart-intraday": {"dataset":
[{"time": "00:00:00", "value": 68}], "datasetInterval": 1, "datasetType": "second"}}``; times are the
user's profile local time (the request was made without ``?timezone=UTC``). The legacy Web API was switched
off in late 2026 (successor: Google Health API), so this reads saved responses; a live client would return
the same ``Samples`` frame from this module's ``parse_response``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from fitbit_assets.domain.sources.samples import (
    ExportFormatError,
    empty_samples,
    integer_values,
    read_export_json,
    reject_rows,
    samples_frame,
)

FORMAT = "webapi_json"
TAKEOUT_SIBLINGS = ("resting_heart_rate-", "time_in_heart_rate_zones-")  # other Takeout files, not intraday HR


def claims(path: Path, first_line: str) -> bool:
    name = path.name.lower()
    if path.suffix.lower() != ".json" or name.startswith(TAKEOUT_SIBLINGS):
        return False
    return "heart" in name or '"activities-heart' in first_line


def read(path: Path, participant_id: str, timezone: str) -> pd.DataFrame:
    return parse_response(read_export_json(path), path)


def parse_response(payload: object, path: Path | str = "<response>") -> pd.DataFrame:
    if not isinstance(payload, dict) or "activities-heart-intraday" not in payload:
        raise ExportFormatError(path, "not a Web API heart-rate response: no 'activities-heart-intraday' object")
    summary = payload.get("activities-heart")
    if not (isinstance(summary, list) and len(summary) == 1 and isinstance(summary[0], dict)):
        raise ExportFormatError(path, "'activities-heart' must be a list of one day summary (a 1d request)")
    try:
        date = dt.date.fromisoformat(str(summary[0].get("dateTime")))
    except ValueError:
        raise ExportFormatError(path, f"activities-heart[0].dateTime {summary[0].get('dateTime')!r} is not YYYY-MM-DD") from None
    intraday = payload["activities-heart-intraday"]
    if not isinstance(intraday, dict) or not isinstance(intraday.get("dataset"), list):
        raise ExportFormatError(path, "'activities-heart-intraday.dataset' must be a list")
    if intraday.get("datasetType") not in ("second", "minute"):
        raise ExportFormatError(path, f"datasetType {intraday.get('datasetType')!r} must be 'second' or 'minute'")
    dataset = intraday["dataset"]
    if not dataset:
        return empty_samples()
    bad_shape = [i for i, item in enumerate(dataset) if not (isinstance(item, dict) and isinstance(item.get("time"), str))]
    if bad_shape:
        raise ExportFormatError(path, "dataset element is not {\"time\": \"HH:MM:SS\", \"value\": bpm}", [f"dataset[{i}]" for i in bad_shape])
    where = pd.Series([f"dataset[{i}]" for i in range(len(dataset))])
    times = pd.Series([item["time"].strip() for item in dataset])
    local_time = pd.to_datetime(date.isoformat() + " " + times, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    reject_rows(path, local_time.isna(), times, where, "time is not HH:MM:SS")
    values = pd.Series([item.get("value") for item in dataset])
    bpm = integer_values(values)
    reject_rows(path, bpm.isna(), values, where, "value is not an integer bpm")
    return samples_frame(local_time, bpm, where)
