"""The coordinator status of a participant (pure): each status, its since day, evidence and action, the urgency
order, and the one set of words every surface shows."""

import datetime as dt

import pytest

from fitbit_assets.domain.coordinator_status import (
    CoordinatorStatus,
    ParticipantState,
    StatusDay,
    StatusRules,
    local_time_text,
    participant_status,
    status_words,
    urgency_key,
)

UTC = dt.timezone.utc
AS_OF = dt.datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
TZ = "America/Los_Angeles"
DAYS = [dt.date(2026, 11, 23) + dt.timedelta(days=i) for i in range(7)]  # .. 2026-11-29, the local yesterday


def day(date, wear, sync="ok", valid=None, minutes=1440):
    return StatusDay(date, wear, minutes, wear >= 600 if valid is None else valid, sync)


def state(days, last_sync=dt.datetime(2026, 11, 30, 8, 30, tzinfo=UTC), **kw):
    kw.setdefault("last_data", dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    return ParticipantState("p1", kw.pop("timezone", TZ), kw.pop("enrolled_on", DAYS[0]), kw.pop("source", "synthetic"),
                            days, last_sync, **kw)


WORN = [day(d, 1300) for d in DAYS]


def test_all_worn_and_synced_is_ok():
    status = participant_status(state(WORN), AS_OF)
    assert (status.status, status.since, status.action) == (CoordinatorStatus.OK, None, "nothing to do")
    assert "last device sync 2026-11-30 00:30 PST" in status.evidence and "earlier" not in status.evidence
    # Invalid days followed by valid ones are past: named in the evidence, nothing to do now.
    recovered = participant_status(state([day(DAYS[0], 0, "not_wearing")] + WORN[1:]), AS_OF)
    assert recovered.status == CoordinatorStatus.OK and recovered.evidence.endswith("earlier invalid: 11-23 0 min (0 %)")


def test_not_wearing_since_the_first_of_the_trailing_invalid_days():
    days = WORN[:4] + [day(DAYS[4], 200, "not_wearing"), day(DAYS[5], 0, "not_wearing"), day(DAYS[6], 100, "not_wearing")]
    status = participant_status(state(days), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_WEARING, DAYS[4])
    assert "11-27 200 min (14 %)" in status.evidence and "valid day >= 600 min" in status.evidence
    assert status.action == "ask the participant to wear the device day and night"


def test_not_syncing_on_days_that_did_not_sync_beats_not_wearing():
    days = WORN[:5] + [day(DAYS[5], 0, "not_syncing"), day(DAYS[6], 0, "not_syncing")]
    last_sync = dt.datetime(2026, 11, 28, 8, 20, tzinfo=UTC)  # 11-28 00:20 PST: the overnight sync after 11-27
    status = participant_status(state(days, last_sync), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_SYNCING, DAYS[5])
    assert "last device sync 2026-11-28 00:20 PST, none since the day ended" in status.evidence
    assert "open the Fitbit app and sync" in status.action


def test_a_status_older_than_the_window_is_dated_from_the_last_sync_or_the_last_valid_day():
    # Enrolled long before the window; nothing synced since 2025-06-12 00:30 EDT, nothing valid since 2025-06-11.
    old = dict(enrolled_on=dt.date(2025, 6, 1), timezone="America/New_York")
    unsynced = [day(d, 0, "not_syncing") for d in DAYS]
    status = participant_status(state(unsynced, dt.datetime(2025, 6, 12, 4, 30, tzinfo=UTC), **old), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_SYNCING, dt.date(2025, 6, 12))
    no_records = state(unsynced, None, last_valid_date=dt.date(2025, 6, 11), **old)
    status = participant_status(no_records, AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_WEARING, dt.date(2025, 6, 12))


def test_a_stale_sync_is_not_syncing_even_when_the_days_arrived():
    status = participant_status(state(WORN, dt.datetime(2026, 11, 27, 12, tzinfo=UTC)), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_SYNCING, dt.date(2026, 11, 27))


def test_nothing_received_since_enrolment():
    status = participant_status(state([day(d, 0, "not_syncing") for d in DAYS], None, last_data=None), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.NOT_SYNCING, DAYS[0])
    assert "nothing received since enrolment" in status.evidence


def test_without_sync_records_an_invalid_day_is_not_wearing_with_the_doubt_named():
    days = WORN[:6] + [day(DAYS[6], 100, "not_syncing")]
    status = participant_status(state(days, None, source="landing"), AS_OF)
    assert status.status == CoordinatorStatus.NOT_WEARING
    assert "not syncing cannot be ruled out" in status.evidence and "so it syncs" in status.action


def test_chronic_partial_wear_passes_the_valid_day_rule_yet_is_its_own_status():
    # 42-54 % of the day, every day valid (>= 600 worn minutes of 1440).
    days = [day(d, int(1440 * pct / 100)) for d, pct in zip(DAYS, (42, 54, 48, 45, 50, 53, 44))]
    assert all(d.valid_day for d in days)
    status = participant_status(state(days), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.PARTIAL_WEAR, DAYS[0])
    assert "worn under 60 % of the day on 7 of the last 7 days" in status.evidence
    # Configurable beside the valid-day rule: a study that accepts half days.
    assert participant_status(state(days), AS_OF, StatusRules(partial_wear_pct=40)).status == CoordinatorStatus.OK
    assert participant_status(state(days[:3] + WORN[3:]), AS_OF).status == CoordinatorStatus.OK  # 3 of 7 < 4
    # Enrolled 3 days ago: the same share, 2 of 3.
    recent = participant_status(state([days[0], WORN[5], days[6]]), AS_OF)
    assert (recent.status, recent.since) == (CoordinatorStatus.PARTIAL_WEAR, DAYS[0])
    assert participant_status(state([days[0], WORN[5], WORN[6]]), AS_OF).status == CoordinatorStatus.OK


def test_a_low_battery_is_a_charging_pattern_with_the_battery_in_the_evidence():
    days = WORN[:6] + [day(DAYS[6], 300, "not_wearing")]
    status = participant_status(state(days, battery_pct=8), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.CHARGING_PATTERN, DAYS[6])
    assert status.evidence.endswith("; battery 8 %") and "charge the device daily" in status.action
    assert participant_status(state(days, battery_pct=80), AS_OF).status == CoordinatorStatus.NOT_WEARING
    assert participant_status(state(WORN, battery_pct=80), AS_OF).evidence.endswith("; battery 80 %")


def test_the_devices_own_last_sync_and_battery_decide_and_are_shown():
    # No sync records for the days (a Google Health participant): the view calls short days not_syncing, yet the
    # tracker itself reports a sync after 11-29 ended (11-30 00:30 PST): the day arrived whole, not wearing.
    days = WORN[:6] + [day(DAYS[6], 100, "not_syncing")]
    worn_less = participant_status(state(days), AS_OF)
    assert (worn_less.status, worn_less.since) == (CoordinatorStatus.NOT_WEARING, DAYS[6])
    # Synced before the day ended, battery empty: not syncing, the battery named as the likely reason.
    before = dt.datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # 11-29 10:00 PST
    flat = participant_status(state(days, before, battery_pct=0, battery_status="Empty"), AS_OF)
    assert flat.status == CoordinatorStatus.NOT_SYNCING and "likely reason: battery Empty (0%)" in flat.evidence
    assert flat.evidence.endswith("; battery 0 % (Empty)")
    quiet = participant_status(state(days, before, battery_pct=70, battery_status="High"), AS_OF)
    assert quiet.status == CoordinatorStatus.NOT_SYNCING and "likely reason" not in quiet.evidence
    assert participant_status(state(WORN, battery_status="Medium"), AS_OF).evidence.endswith("; battery Medium")


def test_google_health_consent_lost_or_never_linked_is_re_consent():
    lost = dt.datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11-28 19:00 PST
    status = participant_status(
        state(WORN, source="google_health", consent_state="reconsent_needed", consent_reason="invalid_grant",
              consent_changed_at=lost), AS_OF)
    assert (status.status, status.since) == (CoordinatorStatus.RECONSENT_NEEDED, dt.date(2026, 11, 28))
    assert "invalid_grant" in status.evidence and "`fitbit-assets connect p1`" in status.action
    unlinked = participant_status(state([], None, source="google_health", last_data=None), AS_OF)
    assert (unlinked.status, unlinked.since) == (CoordinatorStatus.RECONSENT_NEEDED, DAYS[0])
    assert "not linked" in unlinked.evidence
    active = state(WORN, source="google_health", consent_state="active")
    assert participant_status(active, AS_OF).status == CoordinatorStatus.OK


def test_urgency_order_and_the_longest_standing_first():
    statuses = [
        participant_status(state(WORN), AS_OF),
        participant_status(state(WORN[:6] + [day(DAYS[6], 0, "not_wearing")]), AS_OF),
        participant_status(state(WORN[:3] + [day(d, 0, "not_wearing") for d in DAYS[3:]]), AS_OF),
        participant_status(state(WORN, source="google_health"), AS_OF),
    ]
    ordered = sorted(statuses, key=urgency_key)
    assert [(s.status.value, s.since) for s in ordered] == [
        ("reconsent_needed", DAYS[0]), ("not_wearing", DAYS[3]), ("not_wearing", DAYS[6]), ("ok", None)]


def test_words_and_labelled_local_times():
    assert [status_words(s) for s in CoordinatorStatus] == [
        "re-consent", "not syncing", "not wearing", "charging pattern", "partial-day wear", "ok"]
    assert status_words("not_syncing") == "not syncing"
    moment = dt.datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert local_time_text(moment, TZ) == "2026-11-29 00:00 PST"
    assert local_time_text(moment, "Europe/Berlin") == "2026-11-29 09:00 CET"
    assert local_time_text(None, TZ) == "never"
    status = participant_status(state(WORN[:6] + [day(DAYS[6], 0, "not_wearing")]), AS_OF)
    assert status.sentence().startswith("not wearing since 2026-11-29: worn 11-29 0 min (0 %)")


def test_rules_are_checked():
    with pytest.raises(ValueError, match="partial_wear_days"):
        StatusRules(partial_wear_days=8)
    with pytest.raises(ValueError, match="partial_wear_pct"):
        StatusRules(partial_wear_pct=0)
