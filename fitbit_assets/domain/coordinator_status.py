"""A participant's status as a study coordinator acts on it (pure: no Dagster, no SQL).

One status per participant, from its recent local days, its last device sync, its Google Health consent and,
where known, its battery level: what is wrong, since which local day, the evidence, and what to do. The
dashboard's cohort page, the API's ``/api/cohort``, the CLI summary and the coordinator alerts all show it with
the words of ``status_words``, so the four never call the same person two different things.

Rules, most urgent first (docs/adherence.md "Coordinator status"):

* ``reconsent_needed``: a ``google_health`` participant whose consent is gone, or whose account was never linked:
  no data can arrive until they consent (``fitbit-assets connect``).
* ``not_syncing``: no device sync since the latest local day ended (view ``participant_day_status``), or none for
  ``sync_stale_hours``: the data may still be on the device (about 7 days), ask them to open the Fitbit app.
* ``not_wearing``: the latest local day synced after it ended and is still not a valid day (worn minutes below
  ``valid_day_minutes``): whatever heart rate it has is all there is, ask them to wear the device.
* ``charging_pattern``: the battery is known and at or below ``battery_low_pct``: the device is about to stop
  recording, ask them to charge it daily at a fixed time.
* ``partial_wear``: chronic partial-day wear. At least ``partial_wear_days`` of the last ``window_days`` local days
  were worn less than ``partial_wear_pct`` % of the day, valid or not: a 42-54 % day passes the 600-minute
  valid-day rule, yet nights (sleep, resting heart rate) are missing day after day. With fewer local days since
  enrolment than the window, the same share of them counts (4 of 7 -> 2 of 3).
* ``ok``: none of the above.

The device's own state, where the tracker reports it (Google Health ``users.pairedDevices``, table
``device_status``): its last sync counts as a sync (a short day the device synced after is not wearing, not
"not syncing"), a low battery is named as the likely reason of not syncing, and the battery level and status are in
every evidence, in the words of ``battery_text`` and ``sync_text``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class CoordinatorStatus(str, Enum):
    # The values are the alert kinds of the same cases (defs/alerts/messages.py), so stored alert keys stay valid.
    RECONSENT_NEEDED = "reconsent_needed"
    NOT_SYNCING = "not_syncing"
    NOT_WEARING = "not_wearing"
    CHARGING_PATTERN = "charging_pattern"
    PARTIAL_WEAR = "partial_wear"
    OK = "ok"


URGENCY = {status: rank for rank, status in enumerate(CoordinatorStatus)}  # declaration order: most urgent first
_WORDS = {
    CoordinatorStatus.RECONSENT_NEEDED: "re-consent",
    CoordinatorStatus.NOT_SYNCING: "not syncing",
    CoordinatorStatus.NOT_WEARING: "not wearing",
    CoordinatorStatus.CHARGING_PATTERN: "charging pattern",
    CoordinatorStatus.PARTIAL_WEAR: "partial-day wear",
    CoordinatorStatus.OK: "ok",
}


def status_words(status: CoordinatorStatus | str) -> str:
    """The words every surface shows for a status ("not syncing", "partial-day wear", ...)."""
    return _WORDS[CoordinatorStatus(status)]


@dataclass(frozen=True)
class StatusRules:
    valid_day_minutes: int = 600  # FITBIT_VALID_DAY_MINUTES
    partial_wear_pct: float = 60.0  # FITBIT_PARTIAL_WEAR_PCT
    partial_wear_days: int = 4  # FITBIT_PARTIAL_WEAR_DAYS
    window_days: int = 7
    sync_stale_hours: float = 48.0
    battery_low_pct: int = 20

    def __post_init__(self) -> None:
        if not 0 < self.partial_wear_pct <= 100:
            raise ValueError("partial_wear_pct must be in (0, 100]")
        if not 1 <= self.partial_wear_days <= self.window_days:
            raise ValueError(f"partial_wear_days must be from 1 to window_days ({self.window_days})")


@dataclass(frozen=True)
class StatusDay:
    """One classified local day (view ``participant_day_status``): ``sync_status`` is ok / not_wearing /
    not_syncing (``fitbit_assets.domain.device_sync.DayStatus``)."""

    local_date: dt.date
    wear_minutes: int
    day_minutes: int
    valid_day: bool
    sync_status: str

    @property
    def worn_pct(self) -> float:
        return 100.0 * self.wear_minutes / self.day_minutes


@dataclass(frozen=True)
class ParticipantState:
    participant_id: str
    timezone: str
    enrolled_on: dt.date
    source: str
    days: Sequence[StatusDay] = ()  # the recent classified local days, any order
    last_sync: dt.datetime | None = None  # the device's last sync (aware); None: no sync record was ever loaded
    last_data: dt.datetime | None = None  # end of the last heart rate loaded (aware); None: none ever
    last_valid_date: dt.date | None = None  # the last valid local day ever (it may lie before ``days``)
    consent_state: str | None = None  # google_health only: active / reconsent_needed; None: account not linked
    consent_reason: str | None = None
    consent_changed_at: dt.datetime | None = None
    battery_pct: int | None = None  # None: not known (no device status for this participant)
    battery_status: str | None = None  # PairedDevice.batteryStatus (High / Medium / Low / Empty), where reported


@dataclass(frozen=True)
class ParticipantStatus:
    participant_id: str
    status: CoordinatorStatus
    since: dt.date | None  # the participant's local day the status started on
    evidence: str
    action: str

    @property
    def words(self) -> str:
        return status_words(self.status)

    def sentence(self) -> str:
        return status_sentence(self.status, self.since, self.evidence, self.action)


def status_sentence(status: CoordinatorStatus | str, since: dt.date | None, evidence: str, action: str) -> str:
    """One line for text surfaces (CLI summary, alert e-mail): words, since, evidence, action."""
    when = f" since {since.isoformat()}" if since else ""
    return f"{status_words(status)}{when}: {evidence}; {action}"


def _zone(name: str) -> dt.tzinfo:
    """The participant's zone; UTC for a name this machine's tz database lacks (a warehouse row the roster's
    validation never saw), so one bad row never fails the cohort page."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def local_time_text(moment: dt.datetime | None, timezone: str) -> str:
    """A moment in the participant's zone, labelled (``2026-11-29 19:57 PST``); ``never`` for none."""
    if moment is None:
        return "never"
    return moment.astimezone(_zone(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _trailing(days: Sequence[StatusDay], matches) -> list[StatusDay]:
    """The run of latest days that all match, oldest first."""
    run: list[StatusDay] = []
    for day in reversed(days):
        if not matches(day):
            break
        run.append(day)
    return run[::-1]


def _invalid_since(state: ParticipantState, window_start: dt.date) -> dt.date:
    """Invalid on every day of the window: since the day after the last valid one, or enrolment."""
    if state.last_valid_date is None:
        return state.enrolled_on
    return min(window_start, max(state.enrolled_on, state.last_valid_date + dt.timedelta(days=1)))


def _worn_text(days: Sequence[StatusDay]) -> str:
    """Up to 3 days one by one, more as their range (a week of zeros is one phrase, not seven)."""
    if len(days) <= 3:
        return ", ".join(f"{d.local_date:%m-%d} {d.wear_minutes} min ({d.worn_pct:.0f} %)" for d in days)
    low, high = min(days, key=lambda d: d.worn_pct), max(days, key=lambda d: d.worn_pct)
    amount = (f"{low.wear_minutes} min ({low.worn_pct:.0f} %)" if low.wear_minutes == high.wear_minutes else
              f"{low.wear_minutes}-{high.wear_minutes} min ({low.worn_pct:.0f}-{high.worn_pct:.0f} %)")
    return f"{amount} a day on the {len(days)} days {days[0].local_date:%m-%d} .. {days[-1].local_date:%m-%d}"


LOW_BATTERY_PERCENT = 10
LOW_BATTERY_STATES = {"Low", "Empty"}  # PairedDevice.batteryStatus: High | Medium | Low | Empty


def low_battery_reason(battery_level: int | None, battery_status: str | None) -> str | None:
    """``battery Empty (0%)`` when the battery is the likely reason a tracker stopped syncing, else None."""
    low = battery_status in LOW_BATTERY_STATES or (battery_level is not None and battery_level <= LOW_BATTERY_PERCENT)
    if not low:
        return None
    level = f" ({battery_level}%)" if battery_level is not None else ""
    return f"battery {battery_status or 'low'}{level}"


def battery_text(battery_pct: int | None, battery_status: str | None) -> str:
    """``battery 15 % (Low)``, ``battery Low`` or ``battery 80 %``; empty when the device reports neither."""
    if battery_pct is None and battery_status is None:
        return ""
    if battery_pct is None:
        return f"battery {battery_status}"
    return f"battery {battery_pct} %" + (f" ({battery_status})" if battery_status else "")


def sync_text(last_sync: dt.datetime | None, timezone: str) -> str:
    return f"last device sync {local_time_text(last_sync, timezone)}"


def device_text(last_sync: dt.datetime | None, timezone: str, battery_pct: int | None,
                battery_status: str | None) -> str:
    """The device's own state in the cohort's words (alert e-mails): last sync, then the battery where known."""
    battery = battery_text(battery_pct, battery_status)
    return sync_text(last_sync, timezone) + (f"; {battery}" if battery else "")


def _battery_text(state: ParticipantState) -> str:
    battery = battery_text(state.battery_pct, state.battery_status)
    return f"; {battery}" if battery else ""


def _synced_after(day: StatusDay, last_sync: dt.datetime | None, timezone: str) -> bool:
    """Whether the device synced after the local day ended (its own last sync, e.g. from users.pairedDevices)."""
    if last_sync is None:
        return False
    following = day.local_date + dt.timedelta(days=1)
    return last_sync >= dt.datetime.combine(following, dt.time(), tzinfo=_zone(timezone))


def participant_status(state: ParticipantState, as_of: dt.datetime, rules: StatusRules = StatusRules()) -> ParticipantStatus:
    """The coordinator status of one participant at ``as_of`` (aware), from the local days that have ended by then."""
    tz = state.timezone
    today = as_of.astimezone(_zone(tz)).date()
    # A day the device synced after has arrived whole, whatever sync records the day's own row had.
    days = sorted((replace(d, sync_status="not_wearing") if d.sync_status == "not_syncing" and _synced_after(
        d, state.last_sync, tz) else d for d in state.days if state.enrolled_on <= d.local_date < today),
        key=lambda d: d.local_date)
    last_sync_text = sync_text(state.last_sync, tz)
    pid = state.participant_id

    def result(status: CoordinatorStatus, since: dt.date | None, evidence: str, action: str) -> ParticipantStatus:
        return ParticipantStatus(pid, status, since, evidence + _battery_text(state), action)

    if state.source == "google_health" and state.consent_state != "active":
        linked = state.consent_state is not None
        since = state.consent_changed_at.astimezone(_zone(tz)).date() if linked and state.consent_changed_at else None
        evidence = ("Google Health consent lost: " + (state.consent_reason or "consent withdrawn")) if linked else (
            "Google Health account not linked: no consent given yet")
        return result(CoordinatorStatus.RECONSENT_NEEDED, since if linked else state.enrolled_on, evidence,
                      f"ask the participant to consent again with `fitbit-assets connect {pid}`; no data is pulled "
                      "until then")

    synced_ever = state.last_sync is not None  # without any sync record, "not syncing" would only be presumed
    if not synced_ever and state.last_data is None:
        return result(CoordinatorStatus.NOT_SYNCING, state.enrolled_on,
                      "nothing received since enrolment: no heart rate and no device sync recorded",
                      "check that the device is paired with the participant's Fitbit app and syncs")
    unsynced = _trailing(days, lambda d: d.sync_status == "not_syncing" and not d.valid_day)
    stale = synced_ever and (as_of - state.last_sync).total_seconds() > rules.sync_stale_hours * 3600
    if synced_ever and (unsynced or stale):
        # A run that fills the whole window started earlier: on the local day of the last sync.
        since = unsynced[0].local_date if unsynced and len(unsynced) < len(days) else (
            state.last_sync.astimezone(_zone(tz)).date())
        worn = f"; worn {_worn_text(unsynced)}" if unsynced else ""
        battery = low_battery_reason(state.battery_pct, state.battery_status)
        likely = f"; likely reason: {battery}" if battery else ""
        return result(CoordinatorStatus.NOT_SYNCING, since, f"{last_sync_text}, none since the day ended{worn}{likely}",
                      "ask the participant to open the Fitbit app and sync; the data may still be on the device "
                      "(it keeps about 7 days)")

    if state.battery_pct is not None and state.battery_pct <= rules.battery_low_pct:
        invalid = _trailing(days, lambda d: not d.valid_day)
        since = (invalid[0].local_date if len(invalid) < len(days) else _invalid_since(state, invalid[0].local_date)) if (
            invalid) else (days[-1].local_date if days else None)
        worn = f"worn {_worn_text(invalid or days[-1:])}; " if days else ""
        return result(CoordinatorStatus.CHARGING_PATTERN, since, f"{worn}{last_sync_text}",
                      "ask the participant to charge the device daily at a fixed time (e.g. while showering) "
                      "and put it back on right after")

    invalid = _trailing(days, lambda d: not d.valid_day)
    if invalid:
        since = invalid[0].local_date if len(invalid) < len(days) else _invalid_since(state, invalid[0].local_date)
        sync = last_sync_text if synced_ever else "no device sync records, so not syncing cannot be ruled out"
        return result(CoordinatorStatus.NOT_WEARING, since,
                      f"worn {_worn_text(invalid)}, valid day >= {rules.valid_day_minutes} min; {sync}",
                      "ask the participant to wear the device day and night" + (
                          "" if synced_ever else " and to open the Fitbit app so it syncs"))

    window = days[-rules.window_days:]
    partial = [d for d in window if d.worn_pct < rules.partial_wear_pct]
    # Fewer days since enrolment than the window: the same share of them (4 of 7 -> 2 of 3).
    needed = math.ceil(rules.partial_wear_days * len(window) / rules.window_days)
    if window and len(partial) >= needed:
        return result(CoordinatorStatus.PARTIAL_WEAR, partial[0].local_date,
                      f"worn under {rules.partial_wear_pct:.0f} % of the day on {len(partial)} of the last "
                      f"{len(window)} days: {_worn_text(partial)}",
                      "ask the participant to wear the device all day and at night (sleep and night-time heart "
                      "rate are missing)")
    latest = f"latest day {_worn_text(days[-1:])}; " if days else ""
    earlier = [d for d in window if not d.valid_day]  # past, since followed by valid days: said, not acted on
    earlier_text = f"; earlier invalid: {_worn_text(earlier)}" if earlier else ""
    return result(CoordinatorStatus.OK, None, f"{latest}{last_sync_text}{earlier_text}", "nothing to do")


def urgency_key(status: ParticipantStatus) -> tuple:
    """Most urgent first; within a status the longest-standing first."""
    return (URGENCY[status.status], status.since or dt.date.max, status.participant_id)
