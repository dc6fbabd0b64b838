"""Paired devices (pure): ``users.pairedDevices`` pages -> each tracker's last sync and battery.

Reference (``PairedDevice``): ``{"name": "users/{user}/pairedDevices/{id}", "deviceType": "TRACKER"|"SCALE",
"deviceVersion", "lastSyncTime": RFC 3339, "batteryLevel": int, "batteryStatus": "High"|"Medium"|"Low"|"Empty"}``
(every field output only, so any may be missing). Scales are left out: they do not record wear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from fitbit_assets.google_health.client import ResponseShapeError


@dataclass(frozen=True)
class DeviceStatus:
    device_id: str
    device_version: str
    last_sync_at: dt.datetime | None
    battery_level: int | None
    battery_status: str | None


def paired_devices(pages: list[dict], request: str) -> list[DeviceStatus]:
    devices = []
    for p, page in enumerate(pages):
        for i, device in enumerate(page.get("pairedDevices", [])):
            where = f"page {p + 1} pairedDevices[{i}]"
            if not isinstance(device, dict) or not isinstance(device.get("name"), str):
                raise ResponseShapeError(request, f"field {where}.name: missing")
            if device.get("deviceType") == "SCALE":
                continue
            synced = device.get("lastSyncTime")
            last_sync = pd.to_datetime(synced, utc=True, errors="coerce", format="ISO8601") if synced else None
            if synced and pd.isna(last_sync):
                raise ResponseShapeError(request, f"field {where}.lastSyncTime: expected an RFC 3339 time, "
                                                  f"got {synced!r}")
            level = device.get("batteryLevel")
            if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 100):
                raise ResponseShapeError(request, f"field {where}.batteryLevel: expected 0-100, got {level!r}")
            devices.append(DeviceStatus(device["name"].rsplit("/", 1)[-1], str(device.get("deviceVersion") or ""),
                                        last_sync.to_pydatetime() if last_sync is not None else None, level,
                                        device.get("batteryStatus")))
    return devices
