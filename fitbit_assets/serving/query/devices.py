"""The device's own state per participant (Google Health ``users.pairedDevices``, table ``device_status``): its
last sync and battery, read by a query of its own and joined in Python to the cohort overview and the alert
e-mails, so each shows it in the words of ``fitbit_assets.domain.coordinator_status`` (battery_text, sync_text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from fitbit_assets.warehouse.sql_files import sql_query


@dataclass(frozen=True)
class DeviceState:
    timezone: str  # the participant's, to show the sync time in
    last_sync_at: Optional[dt.datetime]  # the tracker's lastSyncTime
    battery_pct: Optional[int]
    battery_status: Optional[str]  # High / Medium / Low / Empty


def latest_device_states(conn) -> dict[str, DeviceState]:
    """participant_id -> the state of the device that synced last (each device's newest observation)."""
    with conn.cursor() as cur:
        cur.execute(sql_query("device_status_latest"))
        return {pid: DeviceState(zone, synced, level, status) for pid, zone, synced, level, status in cur.fetchall()}


def latest_sync(*moments: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """The latest of the known sync times (sync records, the device's own last sync); None when none is known."""
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None
