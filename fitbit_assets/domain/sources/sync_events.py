"""Device sync events: Fitabase ``syncEvents`` CSV and saved Web API ``/devices.json`` responses.

Both become a frame ``synced_at`` (UTC), ``device``, ``line`` that the ``device_sync`` asset loads.

* Fitabase ``<subject>_syncEvents_<from>_<to>.csv``: ``DateTime,SyncDateUTC,Provider,DeviceName`` with
  ``M/D/YYYY h:mm:ss AM/PM``; ``SyncDateUTC`` is used (``DateTime`` is the local rendering).
* Web API ``devices*.json``: ``[{"deviceVersion": "Charge HR", "lastSyncTime": "2016-05-12T14:50:00.000",
  ...}]``; ``lastSyncTime`` is the profile's local time, converted with the participant's timezone. Each saved
  response contributes its ``lastSyncTime`` per device, so keep every response you save.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fitbit_assets.domain.sources.samples import ExportFormatError, read_export_csv, read_export_json, reject_rows

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
    raw, line = read_export_csv(path, FITABASE_HEADER, "Fitabase syncEvents", "Fitabase syncEvents")
    synced_at = pd.to_datetime(raw["SyncDateUTC"].str.strip(), format=FITABASE_TIME, errors="coerce")
    reject_rows(path, synced_at.isna(), raw["SyncDateUTC"], line, "SyncDateUTC is not M/D/YYYY h:mm:ss AM/PM")
    return pd.DataFrame(
        {
            "synced_at": synced_at.dt.tz_localize("UTC").to_numpy(),
            "device": raw["DeviceName"].str.strip().replace("", "unknown").to_numpy(),
            "line": line.to_numpy(),
        }
    ).astype({"synced_at": "datetime64[ns, UTC]"})


def read_devices(path: Path, timezone: str) -> pd.DataFrame:
    payload = read_export_json(path)
    if not isinstance(payload, list):
        raise ExportFormatError(path, f"expected the JSON array of GET /devices.json, got {type(payload).__name__}")
    bad_shape = [f"[{i}]" for i, d in enumerate(payload) if not (isinstance(d, dict) and isinstance(d.get("lastSyncTime"), str))]
    if bad_shape:
        raise ExportFormatError(path, "device has no lastSyncTime string", bad_shape)
    if not payload:
        return empty_events()
    stamps = pd.Series([d["lastSyncTime"].strip() for d in payload])
    where = pd.Series([f"[{i}]" for i in range(len(payload))])
    local = pd.to_datetime(stamps, format="ISO8601", errors="coerce")
    bad = local.isna() | local.map(lambda t: t is not pd.NaT and t.tzinfo is not None)
    reject_rows(path, bad, stamps, where, "lastSyncTime is not a local YYYY-MM-DDTHH:MM:SS[.fff]")
    synced_at = local.dt.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC")
    device = [str(d.get("deviceVersion") or d.get("type") or "unknown") for d in payload]
    return pd.DataFrame({"synced_at": synced_at, "device": device, "line": where.tolist()})
