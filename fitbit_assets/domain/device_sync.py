"""Device sync status: synthetic sync events and the not-syncing / not-wearing rule (``warehouse.device_sync`` loads
the events).

A participant-day without enough heart rate has two very different causes, and coordinators must chase
the right one (in the HeartSteps study, sync gaps were misread as non-wear):

* ``not_syncing``: no device sync since the local day ended, so its data may still be on the device
  (devices keep ~7 days): ask the participant to open the Fitbit app / sync.
* ``not_wearing``: the device synced after the day ended, so whatever heart rate the day has is all there
  is: ask the participant to wear the device.
* ``ok``: the day has at least ``valid_day_minutes`` worn minutes (it counts whatever has arrived).

The rule lives in one place, the SQL view ``participant_day_status`` (sql/common/090_participant_day_status.sql);
``DayStatus`` names its values. The participant-level status a coordinator acts on, built on it, is
``fitbit_assets.domain.coordinator_status``.

Synthetic devices are honest about sync: a device can only upload what it recorded before a sync, so every
synthetic day that has heart rate also has a sync after its last sample (the overnight sync just after the local
day ends), and a day inside a no-sync stretch has neither syncs nor heart rate (nothing reached the warehouse;
``fitbit_assets.domain.synthetic`` leaves it empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from fitbit_assets.domain.coordinator_status import status_words
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant

SYNTHETIC_FORMAT = "synthetic"
# Recorded per synthetic day in day_loads: a new version regenerates the days an older model wrote.
SYNTHETIC_SYNC_VERSION = "synthetic:overnight-sync"
SYNTHETIC_DEVICE = "Charge 6 (synthetic)"
# Chance per day that a multi-day no-sync stretch starts: the device left behind (neither worn nor synced). A
# typical participant's device syncs every day; the low-wear one, designed to be non-adherent, has such stretches.
NO_SYNC_STRETCH_RATE = {"typical": 0.0, "low_wear": 0.12}
NO_SYNC_STRETCH_DAYS = (2, 5)
# The overnight sync that uploads the end of a day: this long after local midnight (hours, elapsed time).
OVERNIGHT_SYNC_HOURS = (10 / 60, 50 / 60)
# A synthetic day's sync events lie in [local midnight + this, next midnight + this): after the previous day's
# overnight sync, up to and including the day's own.
SYNTHETIC_WINDOW_SHIFT = pd.Timedelta(hours=1)


class DayStatus(str, Enum):
    OK = "ok"
    NOT_WEARING = "not_wearing"
    NOT_SYNCING = "not_syncing"


def status_explanation(
    status: str,
    first_sync_after_day_end: dt.datetime | None,
    last_sync_at: dt.datetime | None,
    sync_data_available: bool,
) -> str:
    """What a coordinator should chase for an invalid day (pure): the alert text after the wear numbers."""
    if not sync_data_available:
        # What the coordinator's page calls such a participant (coordinator_status): not wearing, doubt named.
        return (
            f"{status_words(DayStatus.NOT_WEARING.value)}: no device sync records for this participant, so not "
            "syncing cannot be ruled out; ask the participant to wear the device and to open the Fitbit app so it syncs"
        )
    if status == DayStatus.NOT_WEARING.value:
        return (
            f"{status_words(status)}: the device synced after the day ended ({_utc_text(first_sync_after_day_end)}), so the "
            "missing heart rate was never recorded; ask the participant to wear the device"
        )
    if status == DayStatus.NOT_SYNCING.value:
        return (
            f"{status_words(status)}: no device sync since the day ended (last sync {_utc_text(last_sync_at)}), so the data "
            "may still be on the device; ask the participant to open the Fitbit app and sync"
        )
    return status


@dataclass(frozen=True)
class SyncWindow:
    """The UTC window whose events one synthetic day replaces."""

    start_utc: pd.Timestamp
    end_utc: pd.Timestamp


def synthetic_sync_window(participant: Participant, local_date: dt.date) -> SyncWindow:
    day = LocalDay(local_date, participant.timezone)
    return SyncWindow(day.start_utc + SYNTHETIC_WINDOW_SHIFT, day.end_utc + SYNTHETIC_WINDOW_SHIFT)


def _utc_text(moment: dt.datetime | None) -> str:
    return "never" if moment is None else pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def in_no_sync_stretch(participant: Participant, local_date: dt.date) -> bool:
    """Stretches are drawn per start day, so any day is decided without generating the days before it."""
    rate = NO_SYNC_STRETCH_RATE.get(participant.wear_profile, NO_SYNC_STRETCH_RATE["typical"])
    for back in range(NO_SYNC_STRETCH_DAYS[1]):
        start = local_date - dt.timedelta(days=back)
        rng = np.random.default_rng([participant.seed, start.toordinal(), 7])
        if rng.random() < rate and int(rng.integers(NO_SYNC_STRETCH_DAYS[0], NO_SYNC_STRETCH_DAYS[1] + 1)) > back:
            return True
    return False


def generate_sync_events(participant: Participant, local_date: dt.date) -> pd.DataFrame:
    """Deterministic sync events (``synced_at`` UTC, ``device``) that carry one participant-day's data.

    The phone syncs every 1.5-6 h from morning to late evening, whether or not the device is worn (a
    device left on the nightstand still syncs: that is "not wearing"), and once overnight 10-50 min after the
    local day ends, which uploads the rest of the day; none at all inside an occasional 2-5-day no-sync stretch
    ("not syncing"). Same seed and date -> same events, inside ``synthetic_sync_window``.
    """
    if in_no_sync_stretch(participant, local_date):
        return pd.DataFrame({"synced_at": pd.Series(dtype="datetime64[ns, UTC]"), "device": pd.Series(dtype=str)})
    rng = np.random.default_rng([participant.seed, local_date.toordinal(), 8])
    hours = [float(rng.uniform(6.5, 9.5))]
    while True:
        nxt = hours[-1] + float(rng.uniform(1.5, 6.0))
        if nxt >= 23.9:
            break
        hours.append(nxt)
    day = LocalDay(local_date, participant.timezone)
    # Offsets from local midnight in elapsed time: exact on 23 h / 25 h DST days too.
    synced_at = [day.start_utc + pd.Timedelta(seconds=round(h * 3600)) for h in hours]
    synced_at = [t for t in synced_at if t < day.end_utc]
    synced_at.append(day.end_utc + pd.Timedelta(seconds=round(float(rng.uniform(*OVERNIGHT_SYNC_HOURS)) * 3600)))
    return pd.DataFrame({"synced_at": pd.to_datetime(synced_at, utc=True), "device": SYNTHETIC_DEVICE})
