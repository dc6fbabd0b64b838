"""The Google Health API connector against a loopback fake of the API (no live credentials), through the real Dagster
assets and the real embedded PostgreSQL: paired devices, their zones and state, to the cohort status and the alert mail."""

from __future__ import annotations

import datetime as dt

from fitbit_assets.defs.alerts.messages import plan_messages
from fitbit_assets.serving.query import cohort_overview
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets_tests.support.google_health import (
    ALICE,
    DAY,
    day_start_utc,
    enrol,
    key,
    label,
    pull_days,
)


def test_a_device_offset_other_than_the_roster_zones_is_reported(fake, configured, gh_instance, warehouse,
                                                                study_files):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    fake.fake.sample_offsets["alice"] = "-18000s"  # in New York, while the roster says Berlin (+3600 s in November)
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert metadata["days_pulled_new_or_changed"] == [label(ALICE)]  # kept on the roster zone's day
    assert "120 sample(s) at utcOffset -18000s, not Europe/Berlin's" in metadata["utc_offset_differs_from_roster"][
        label(ALICE)]

    fake.fake.sample_offsets["alice"] = "3600s"
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert metadata["utc_offset_differs_from_roster"] == {}


def test_paired_devices_land_in_device_status(fake, configured, gh_instance, warehouse, study_files, query):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.paired_devices["alice"] = [
        {"name": "users/me/pairedDevices/2718", "deviceType": "TRACKER", "deviceVersion": "Charge 6",
         "lastSyncTime": "2026-11-02T21:14:05Z", "batteryLevel": 8, "batteryStatus": "Low"},
        {"name": "users/me/pairedDevices/99", "deviceType": "SCALE", "deviceVersion": "Aria Air"}]
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert metadata["paired_devices"] == 1
    assert query("SELECT participant_id, device_id, device_version, last_sync_at, battery_level, battery_status "
                 "FROM device_status") == [
        ("gh-alice", "2718", "Charge 6", dt.datetime(2026, 11, 2, 21, 14, 5, tzinfo=dt.timezone.utc), 8, "Low")]


def test_device_state_reaches_the_cohort_status_the_summary_and_the_alert_mail(fake, configured, gh_instance,
                                                                              warehouse, study_files):
    from fitbit_assets.defs.alerts.messages import NOT_WEARING, Alert
    from fitbit_assets.domain.coordinator_status import device_text
    from fitbit_assets.serving.api.models import CohortRow
    from fitbit_assets.serving.query.devices import latest_device_states
    from fitbit_assets.serving.reports import coordinator_status_lines

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    with warehouse.connection() as conn:
        upsert_participant(conn, ALICE)
        conn.commit()
    as_of = dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.timezone.utc)  # Alice's local days 11-01 and 11-02 have ended
    tracker = {"name": "users/me/pairedDevices/2718", "deviceType": "TRACKER", "deviceVersion": "Charge 6"}

    def cohort_after_pull(last_sync: str, level: int, battery: str) -> tuple[dict, list[str], dict]:
        fake.fake.paired_devices["alice"] = [{**tracker, "lastSyncTime": last_sync, "batteryLevel": level,
                                              "batteryStatus": battery}]
        pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
        with warehouse.connection() as conn:
            [row] = [r for r in cohort_overview(conn, as_of) if r["participant_id"] == ALICE.participant_id]
            lines = [line for line in coordinator_status_lines(conn, as_of) if line.startswith("gh-alice ")]
            devices = latest_device_states(conn)
        return row, lines, devices

    # Synced after 11-02 ended with no heart rate: not "not syncing" (no sync records exist for her); the battery
    # at 8 % is the charging pattern, in the same words on the dashboard/API row, the CLI summary and the e-mail.
    row, lines, devices = cohort_after_pull("2026-11-03T01:00:00Z", 8, "Low")
    assert row["status"] == "charging_pattern" and (row["battery_pct"], row["battery_status"]) == (8, "Low")
    assert row["last_sync"] == dt.datetime(2026, 11, 3, 1, 0, tzinfo=dt.timezone.utc)
    words = "last device sync 2026-11-03 02:00 CET; battery 8 % (Low)"
    assert row["evidence"].endswith(words) and CohortRow(**row).battery_pct == 8
    assert [line for line in lines if words in line and "charging pattern since" in line] == lines != []
    device = devices[ALICE.participant_id]
    mail = device_text(device.last_sync_at, device.timezone, device.battery_pct, device.battery_status)
    assert mail == words
    [message] = plan_messages([Alert(ALICE.participant_id, DAY, NOT_WEARING, "10 min worn")], set(),
                              {ALICE.participant_id: mail})
    assert f"Device: {words}" in message.text

    # The newest observation wins: no sync since before 11-02 ended, battery empty -> not syncing, the battery named
    # as the likely reason.
    row, lines, _ = cohort_after_pull("2026-11-02T09:00:00Z", 0, "Empty")
    assert row["status"] == "not_syncing" and "likely reason: battery Empty (0%)" in row["evidence"]
    assert row["evidence"].endswith("battery 0 % (Empty)") and "not syncing since 2026-11-02" in lines[0]


def test_device_day_status_tells_not_wearing_from_not_syncing():
    from fitbit_assets.domain.device_sync import DayStatus
    from fitbit_assets.domain.paired_device import device_day_status

    end = dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc)
    after, before = end + dt.timedelta(hours=2), end - dt.timedelta(days=3)
    assert device_day_status(end, 700, 600, before).status == DayStatus.OK
    assert device_day_status(end, 0, 600, after, 80, "High").status == DayStatus.NOT_WEARING
    quiet = device_day_status(end, 0, 600, before, 55, "Medium")
    assert quiet.status == DayStatus.NOT_SYNCING and quiet.likely_reason is None
    flat = device_day_status(end, 120, 600, before, 0, "Empty")
    assert flat.status == DayStatus.NOT_SYNCING and flat.likely_reason == "battery Empty (0%)"
    assert device_day_status(end, 0, 600, None).status == DayStatus.NOT_SYNCING  # never synced: no device state
