"""Fitabase second-level heart rate: ``Id,Time,Value`` with local ``M/D/YYYY h:mm:ss AM/PM`` times.

File names as Fitabase writes them: ``heartrate_seconds_merged.csv``, ``<Id>_heartrate_seconds_<from>_<to>.csv``
(anything containing ``heartrate_seconds``), or any CSV whose header is ``Id,Time,Value``. ``Id`` is the
Fitabase subject id and must equal the roster participant_id of the folder the file was dropped in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fitbit_assets.sources.base import ExportFormatError, integer_values

FORMAT = "fitabase_csv"
HEADER = ["Id", "Time", "Value"]
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def claims(path: Path, first_line: str) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    return "heartrate_seconds" in path.name.lower() or first_line.strip().lstrip("\ufeff").startswith("Id,Time,Value")


def read(path: Path, participant_id: str, timezone: str) -> pd.DataFrame:
    """Samples of the file (see ``base``); any bad row fails the whole file, naming the rows."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ExportFormatError(path, f"empty file, expected a header line {','.join(HEADER)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExportFormatError(path, f"not a valid Fitabase CSV ({str(exc).strip()})") from None
    if [c.strip() for c in raw.columns] != HEADER:
        raise ExportFormatError(path, f"header is {list(raw.columns)}, expected {HEADER} (Fitabase heartrate_seconds)")
    raw.columns = HEADER
    raw = raw[(raw != "").any(axis=1)]  # blank lines (the real exports end with one)
    line = raw.index.to_series() + 2  # header is line 1; the index counts every data line, blank or not

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
    if local_time.isna().any():
        bad = local_time.isna()
        raise ExportFormatError(
            path,
            f"Time is not M/D/YYYY h:mm:ss AM/PM, e.g. {raw['Time'][bad].iloc[0]!r}",
            line[bad].tolist(),
        )
    bpm = integer_values(raw["Value"])
    if bpm.isna().any():
        bad = bpm.isna()
        raise ExportFormatError(path, f"Value is not an integer bpm, e.g. {raw['Value'][bad].iloc[0]!r}", line[bad].tolist())
    return pd.DataFrame(
        {
            "local_time": local_time.to_numpy(),
            "bpm": bpm.astype("int64").to_numpy(),
            "confidence": pd.array([pd.NA] * len(raw), dtype="Int16"),
            "line": line.to_numpy(),
        }
    )
