"""Not wearing vs not syncing from the device's own sync state (Google Health ``users.pairedDevices``), pure.

``device_sync.py`` infers the cause of a short day from sync events; a Google Health participant's tracker reports
its last sync and battery itself (table ``device_status``). The rule for one participant local day:

* at least ``valid_day_minutes`` worn minutes: ``ok``;
* else the tracker synced after the day ended (``last_sync_at >= day_end_utc``): whatever the day has is all there
  is, so ``not_wearing``;
* else (no sync since the day ended, or no device state known): ``not_syncing``, the data may still be on the
  device; a ``Low`` or ``Empty`` battery (or a level at or under ``LOW_BATTERY_PERCENT``,
  ``coordinator_status.low_battery_reason``) is named as the likely reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fitbit_assets.domain.coordinator_status import low_battery_reason
from fitbit_assets.domain.device_sync import DayStatus


@dataclass(frozen=True)
class DeviceDayStatus:
    status: DayStatus
    likely_reason: str | None  # e.g. "battery Empty (0%)" for a tracker that stopped syncing


def device_day_status(day_end_utc: dt.datetime, worn_minutes: int, valid_day_minutes: int,
                      last_sync_at: dt.datetime | None, battery_level: int | None = None,
                      battery_status: str | None = None) -> DeviceDayStatus:
    """The day's status from its worn minutes and the tracker's last sync (times timezone-aware)."""
    if worn_minutes >= valid_day_minutes:
        return DeviceDayStatus(DayStatus.OK, None)
    if last_sync_at is not None and last_sync_at >= day_end_utc:
        return DeviceDayStatus(DayStatus.NOT_WEARING, None)
    return DeviceDayStatus(DayStatus.NOT_SYNCING, low_battery_reason(battery_level, battery_status))

