"""Fitbit account export / Google Takeout: ``heart_rate-YYYY-MM-DD.json``.

``[{"dateTime": "04/22/19 04:00:05", "value": {"bpm": 69, "confidence": 2}}, ...]`` (MM/DD/YY HH:MM:SS).
Whether ``dateTime`` is UTC or the account's local time is disputed between public parsers, so the roster
says it per participant (``takeout_timestamps`` = ``local`` (default) | ``utc``, see docs/real-exports.md). ``confidence``
(0-3) is kept and loaded into ``heart_rate.confidence``.
"""

from __future__ import annotations

import re
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

FORMAT = "takeout_json"
NAME = re.compile(r"^heart_rate-(\d{4}-\d{2}-\d{2})\.json$")
TIME_FORMAT = "%m/%d/%y %H:%M:%S"


def claims(path: Path, first_line: str) -> bool:
    return bool(NAME.match(path.name))


def read(path: Path, participant_id: str, timezone: str, timestamps: str = "local") -> pd.DataFrame:
    payload = read_export_json(path)
    if not isinstance(payload, list):
        raise ExportFormatError(path, f"expected a JSON array of {{dateTime, value: {{bpm, confidence}}}}, got {type(payload).__name__}")
    if not payload:
        return empty_samples()
    bad_shape = [
        i for i, item in enumerate(payload)
        if not (isinstance(item, dict) and isinstance(item.get("dateTime"), str) and isinstance(item.get("value"), dict))
    ]
    if bad_shape:
        raise ExportFormatError(path, "element is not {\"dateTime\": str, \"value\": {\"bpm\", \"confidence\"}}", [f"[{i}]" for i in bad_shape])
    frame = pd.DataFrame(
        {
            "dateTime": [item["dateTime"].strip() for item in payload],
            "bpm": [item["value"].get("bpm") for item in payload],
            "confidence": [item["value"].get("confidence") for item in payload],
        }
    )
    where = pd.Series([f"[{i}]" for i in range(len(frame))])
    stamp = pd.to_datetime(frame["dateTime"], format=TIME_FORMAT, errors="coerce")
    reject_rows(path, stamp.isna(), frame["dateTime"], where, "dateTime is not MM/DD/YY HH:MM:SS")
    bpm = integer_values(frame["bpm"])
    reject_rows(path, bpm.isna(), frame["bpm"], where, "value.bpm is not an integer")
    confidence = integer_values(frame["confidence"])
    bad = confidence.isna() | (confidence < 0) | (confidence > 3)
    reject_rows(path, bad, frame["confidence"], where, "value.confidence is not an integer 0-3")
    if timestamps == "utc":
        # UTC instants -> the participant's wall clock; chronological order keeps fall-back folds in order.
        order = stamp.sort_values(kind="stable").index
        stamp, bpm, confidence, where = stamp[order], bpm[order], confidence[order], where[order]
        local_time = stamp.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    elif timestamps == "local":
        local_time = stamp
    else:
        raise ValueError(f"takeout_timestamps must be 'local' or 'utc', got {timestamps!r}")
    return samples_frame(local_time, bpm, where, confidence)
