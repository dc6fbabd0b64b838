"""Fitabase second-level heart rate: ``Id,Time,Value`` with local ``M/D/YYYY h:mm:ss AM/PM`` times.

File names as Fitabase writes them: ``heartrate_seconds_merged.csv`` (every participant of the study),
``<Id>_heartrate_seconds_<from>_<to>.csv`` (anything containing ``heartrate_seconds``), or any CSV whose header
is ``Id,Time,Value``. ``Id`` is the Fitabase subject id: the roster's ``fitabase_id`` (default: participant_id).
In a participant's own folder every ``Id`` must be that participant's; in the study folder ``landing/fitabase/``
rows are routed to participants by ``Id`` (``sources.staging``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fitbit_assets.domain.sources.samples import check_ids, integer_values, read_export_csv, reject_rows, samples_frame

FORMAT = "fitabase_csv"
HEADER = ["Id", "Time", "Value"]
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def claims(path: Path, first_line: str) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    return "heartrate_seconds" in path.name.lower() or first_line.strip().lstrip("\ufeff").startswith("Id,Time,Value")


def read_rows(path: Path) -> pd.DataFrame:
    """Samples of the file (see ``samples``) plus each row's ``Id``; any bad row fails the whole file, naming the rows."""
    raw, line = read_export_csv(path, HEADER, "Fitabase", "Fitabase heartrate_seconds")
    local_time = pd.to_datetime(raw["Time"].str.strip(), format=TIME_FORMAT, errors="coerce")
    reject_rows(path, local_time.isna(), raw["Time"], line, "Time is not M/D/YYYY h:mm:ss AM/PM")
    bpm = integer_values(raw["Value"])
    reject_rows(path, bpm.isna(), raw["Value"], line, "Value is not an integer bpm")
    samples = samples_frame(local_time, bpm, line)
    samples.insert(0, "Id", raw["Id"].str.strip().to_numpy())
    return samples


def read(path: Path, participant_id: str, timezone: str, fitabase_id: str | None = None) -> pd.DataFrame:
    """Samples of a file dropped in the participant's own folder: every ``Id`` must be theirs."""
    samples = read_rows(path)
    check_ids(path, samples["Id"], samples["line"], fitabase_id or participant_id, participant_id)
    return samples.drop(columns="Id")
