"""Device sync events: Fitabase ``syncEvents`` CSV and saved Web API ``/devices.json`` responses.

Both become a frame ``synced_at`` (UTC), ``device``, ``line`` that the ``device_sync`` asset loads.

* Fitabase ``<subject>_syncEvents_<from>_<to>.csv``: ``DateTime,SyncDateUTC,Provider,DeviceName`` with
  ``M/D/YYYY h:mm:ss AM/PM``; ``SyncDateUTC`` is used (``DateTime`` is the local rendering).
* Web API ``devices*.json``: ``[{"deviceVersion": "Charge HR", "lastSyncTime": "2016-05-12T14:50:00.000",
  ...}]``; ``lastSyncTime`` is the profile's local time, converted with the participant's timezone. Each saved
  response contributes its ``lastSyncTime`` per device, so keep every response you save.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fitbit_assets.sources.base import ExportFormatError

FITABASE_FORMAT = "fitabase_sync_csv"
DEVICES_FORMAT = "webapi_devices_json"
FITABASE_HEADER = ["DateTime", "SyncDateUTC", "Provider", "DeviceName"]
FITABASE_TIME = "%m/%d/%Y %I:%M:%S %p"


def empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "synced_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "device": pd.Series(dtype=str),
            "line": pd.Series(dtype=object),
        }
    )


def claims_fitabase(path: Path, first_line: str) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    return "syncevents" in path.name.lower() or first_line.strip().lstrip("\ufeff").startswith("DateTime,SyncDateUTC")


def claims_devices(path: Path, first_line: str) -> bool:
    return path.suffix.lower() == ".json" and "devices" in path.name.lower()


def read_fitabase(path: Path, timezone: str) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ExportFormatError(path, f"empty file, expected a header line {','.join(FITABASE_HEADER)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExportFormatError(path, f"not a valid Fitabase syncEvents CSV ({str(exc).strip()})") from None
    if [c.strip() for c in raw.columns] != FITABASE_HEADER:
        raise ExportFormatError(path, f"header is {list(raw.columns)}, expected {FITABASE_HEADER} (Fitabase syncEvents)")
    raw.columns = FITABASE_HEADER
    raw = raw[(raw != "").any(axis=1)]
    line = raw.index.to_series() + 2
    synced_at = pd.to_datetime(raw["SyncDateUTC"].str.strip(), format=FITABASE_TIME, errors="coerce")
    if synced_at.isna().any():
        bad = synced_at.isna()
        raise ExportFormatError(
            path, f"SyncDateUTC is not M/D/YYYY h:mm:ss AM/PM, e.g. {raw['SyncDateUTC'][bad].iloc[0]!r}", line[bad].tolist()
        )
    return pd.DataFrame(
        {
            "synced_at": synced_at.dt.tz_localize("UTC").to_numpy(),
            "device": raw["DeviceName"].str.strip().replace("", "unknown").to_numpy(),
            "line": line.to_numpy(),
        }
    ).astype({"synced_at": "datetime64[ns, UTC]"})


def read_devices(path: Path, timezone: str) -> pd.DataFrame:
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportFormatError(path, f"not valid JSON ({exc})") from None
    if not isinstance(payload, list):
        raise ExportFormatError(path, f"expected the JSON array of GET /devices.json, got {type(payload).__name__}")
    bad_shape = [f"[{i}]" for i, d in enumerate(payload) if not (isinstance(d, dict) and isinstance(d.get("lastSyncTime"), str))]
    if bad_shape:
        raise ExportFormatError(path, "device has no lastSyncTime string", bad_shape)
    if not payload:
        return empty_events()
    stamps = pd.Series([d["lastSyncTime"].strip() for d in payload])
    local = pd.to_datetime(stamps, format="ISO8601", errors="coerce")
    bad = local.isna() | local.map(lambda t: t is not pd.NaT and t.tzinfo is not None)
    if bad.any():
        raise ExportFormatError(
            path, f"lastSyncTime is not a local YYYY-MM-DDTHH:MM:SS[.fff], e.g. {stamps[bad].iloc[0]!r}",
            [f"[{i}]" for i in bad[bad].index],
        )
    synced_at = local.dt.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC")
    device = [str(d.get("deviceVersion") or d.get("type") or "unknown") for d in payload]
    return pd.DataFrame({"synced_at": synced_at, "device": device, "line": [f"[{i}]" for i in range(len(payload))]})
