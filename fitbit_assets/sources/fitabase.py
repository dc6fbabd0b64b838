"""Fitabase second-level heart rate: ``Id,Time,Value`` with local ``M/D/YYYY h:mm:ss AM/PM`` times.

File names as Fitabase writes them: ``heartrate_seconds_merged.csv``, ``<Id>_heartrate_seconds_<from>_<to>.csv``
(anything containing ``heartrate_seconds``), or any CSV whose header is ``Id,Time,Value``. ``Id`` is the
Fitabase subject id and must equal the roster participant_id of the folder the file was dropped in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fitbit_assets.sources.base import ExportFormatError, integer_values, read_export_csv, reject_rows, samples_frame

FORMAT = "fitabase_csv"
HEADER = ["Id", "Time", "Value"]
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def claims(path: Path, first_line: str) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    return "heartrate_seconds" in path.name.lower() or first_line.strip().lstrip("\ufeff").startswith("Id,Time,Value")


def read(path: Path, participant_id: str, timezone: str) -> pd.DataFrame:
    """Samples of the file (see ``base``); any bad row fails the whole file, naming the rows."""
    raw, line = read_export_csv(path, HEADER, "Fitabase", "Fitabase heartrate_seconds")
    ids = raw["Id"].str.strip()
    wrong_id = ids != participant_id
    if wrong_id.any():
        found = sorted(set(ids[wrong_id]))[:5]
        raise ExportFormatError(
            path,
            f"Id {found} does not match participant {participant_id!r} of this landing folder "
            "(Fitabase Id must equal the roster participant_id)",
            line[wrong_id].tolist(),
        )
    local_time = pd.to_datetime(raw["Time"].str.strip(), format=TIME_FORMAT, errors="coerce")
    reject_rows(path, local_time.isna(), raw["Time"], line, "Time is not M/D/YYYY h:mm:ss AM/PM")
    bpm = integer_values(raw["Value"])
    reject_rows(path, bpm.isna(), raw["Value"], line, "Value is not an integer bpm")
    return samples_frame(local_time, bpm, line)
