"""Coordinator alerts: pure attribution/de-dup, then the sensor against a real SMTP server and a real HTTP
server on loopback after real materializations."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from fitbit_assets import settings
from fitbit_assets.defs.alerts.channel import AlertChannelResource, alert_channel_from_settings
from fitbit_assets.defs.alerts.collect import AlertCursor
from fitbit_assets.defs.alerts.messages import (
    COORDINATOR,
    ENGINEER,
    NON_ADHERENT,
    NOT_SYNCING,
    NOT_WEARING,
    RUN_FAILED,
    Alert,
    alert_from_run_failure,
    alerts_from_check_evaluation,
    plan_messages,
)
from fitbit_assets.defs.alerts.sensor import coordinator_alert_sensor
from fitbit_assets.lib.check_metadata import FAILING_PARTICIPANT_DAYS, PARTICIPANTS_CHECKED, PARTICIPANTS_FAILED
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets_tests.support.adherence_fixtures import all_worn, drop_day, materialize_days, worn_only
from fitbit_assets_tests.support.study import LANDING

D1 = dt.date(2025, 6, 10)
NOW = dt.datetime(2025, 6, 20, 13, 0, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------------------------------------ pure


def test_plan_messages_groups_per_audience_and_participant_day_and_skips_sent_keys():
    alerts = [
        Alert("p1", D1, NON_ADHERENT, "low"),
        Alert("p1", D1, NON_ADHERENT, "low again"),  # same key in one batch: latest wins
        Alert("p1", D1, NOT_SYNCING, "no sync"),  # same participant-day and audience: same message
        Alert("p1", D1, RUN_FAILED, "boom"),  # the data engineer's, a message of its own
        Alert("p1", D1, "check:validated_heart_rate_schema", "bad file"),
        Alert("p1", D1 + dt.timedelta(days=1), NON_ADHERENT, "low"),
        Alert("p2", D1, NON_ADHERENT, "low"),
    ]
    messages = plan_messages(alerts, already_sent={("p2", D1, NON_ADHERENT)})
    assert [(m.audience, m.participant_id, m.local_date, m.kinds) for m in messages] == [
        (COORDINATOR, "p1", D1, [NON_ADHERENT, NOT_SYNCING]),
        (COORDINATOR, "p1", D1 + dt.timedelta(days=1), [NON_ADHERENT]),
        (ENGINEER, "p1", D1, ["check:validated_heart_rate_schema", RUN_FAILED]),
    ]
    assert "low again" in messages[0].text and messages[0].subject == "[fitbit-assets] p1 2025-06-10: 2 issues"
    assert plan_messages(alerts, already_sent={a.key for a in alerts}) == []


def day_evaluation(*failing: dict) -> dict:
    """A day evaluation's metadata as report_day_results writes it."""
    return {PARTICIPANTS_CHECKED: 3, PARTICIPANTS_FAILED: len(failing), FAILING_PARTICIPANT_DAYS: list(failing)}


def test_check_evaluation_attribution():
    invalid_day = {"participant_id": "p1", "local_date": "2025-06-10", "reason": "worn 10 min"}
    not_syncing = {**invalid_day, "participant_id": "p2", "day_status": NOT_SYNCING}
    unknown = {**invalid_day, "participant_id": "p3", "day_status": "unknown"}
    alerts = alerts_from_check_evaluation(
        "daily_adherence_valid_day", False, "2025-06-10", day_evaluation(invalid_day, not_syncing, unknown), None, NOW
    )
    assert alerts == [
        Alert("p1", D1, NON_ADHERENT, "worn 10 min", "daily_adherence_valid_day"),
        Alert("p2", D1, NOT_SYNCING, "worn 10 min", "daily_adherence_valid_day"),
        Alert("p3", D1, NON_ADHERENT, "worn 10 min", "daily_adherence_valid_day"),
    ]
    bad_file = {"participant_id": "p1", "local_date": "2025-06-10", "description": "bad file"}
    [schema] = alerts_from_check_evaluation("validated_heart_rate_schema", False, "2025-06-10", day_evaluation(bad_file), "1 of 3 failed", NOW)
    assert (schema.key, schema.text) == (("p1", D1, "check:validated_heart_rate_schema"), "bad file")
    assert alerts_from_check_evaluation("some_check", True, "2025-06-10", day_evaluation(), None, NOW) == []
    # A ranged run's summary (no partition) repeats what its days' evaluations say: no alert of its own.
    assert alerts_from_check_evaluation("some_check", False, None, {FAILING_PARTICIPANT_DAYS: ["p1/2025-06-10"]}, "x", NOW) == []
    [orphan] = alerts_from_check_evaluation("some_check", False, None, {}, None, NOW)
    assert orphan.key == ("*", NOW.date(), "check:some_check")


def test_run_failure_attribution():
    tags = range_tags("p1", D1, D1 + dt.timedelta(days=3))
    alert = alert_from_run_failure("r1", "pipeline_job", tags, "step failed", NOW)
    assert alert.key == ("p1", D1 + dt.timedelta(days=3), RUN_FAILED) and "step failed" in alert.text
    cohort_run = alert_from_run_failure("r1", "pipeline_job", range_tags(["p1", "p2"], D1, D1), "step failed", NOW)
    assert cohort_run.key == ("*", D1, RUN_FAILED)
    alert = alert_from_run_failure("r2", "other_job", {}, "x", NOW)
    assert alert.key == ("*", NOW.date(), RUN_FAILED)


def test_cursor_round_trip():
    assert AlertCursor.parse(None) == AlertCursor(0, 0)
    assert AlertCursor.parse(AlertCursor(12, 7).serialize()) == AlertCursor(12, 7)


def test_channels_are_off_until_configured(monkeypatch):
    for name in ("FITBIT_ALERT_SMTP_HOST", "FITBIT_ALERT_SMTP_TO", "FITBIT_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert alert_channel_from_settings(settings.load()).channels() == []
    monkeypatch.setenv("FITBIT_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("FITBIT_ALERT_SMTP_PASSWORD", "s3cret")
    resource = alert_channel_from_settings(settings.load())
    # The secret stays an EnvVar reference in the definitions, resolved only at run time.
    assert isinstance(resource._get_non_default_public_field_values()["smtp_password"], dg.EnvVar)  # noqa: SLF001


# ------------------------------------------------------------------------------------ real servers


def run_sensor(instance, warehouse, channel, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"warehouse": warehouse, "alert_channel": channel}
    )
    result = coordinator_alert_sensor(context)
    return result, context.cursor


def test_sensor_sends_one_message_per_participant_day_and_never_twice(
    instance, study_files, roster, warehouse, query, smtp_server, webhook_server, monkeypatch
):
    smtp_port, inbox = smtp_server
    webhook_url, received = webhook_server
    monkeypatch.setenv("TEST_ALERT_TOKEN", "tok-123")
    channel = AlertChannelResource(
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_tls="none",
        smtp_from="pipeline@study.test",
        smtp_to="coordinator@study.test, backup@study.test",
        engineer_to="engineer@study.test",
        webhook_url=webhook_url,
        webhook_token=dg.EnvVar("TEST_ALERT_TOKEN"),
    )
    # Three Berlin days: valid, 8 h worn (invalid), nothing at all (invalid).
    drop_day(study_files, LANDING, D1, all_worn)
    drop_day(study_files, LANDING, D1 + dt.timedelta(days=1), worn_only(480, 960))
    tags = range_tags(LANDING.participant_id, D1, D1 + dt.timedelta(days=2))
    assert materialize_days(instance, study_files, warehouse, tags=tags).success

    result, cursor = run_sensor(instance, warehouse, channel, None)
    assert isinstance(result, dg.SkipReason) and "2 message(s) sent" in result.skip_message
    subjects = sorted(m["Subject"] for _, _, m in inbox.messages)
    assert subjects == [
        "[fitbit-assets] land-01 2025-06-11: not a valid wear day",
        "[fitbit-assets] land-01 2025-06-12: not a valid wear day",
    ]
    assert all(to == ["coordinator@study.test", "backup@study.test"] for _, to, _ in inbox.messages)
    body = {m["Subject"]: m.get_content() for _, _, m in inbox.messages}
    assert "worn 480 of 1440 min" in body["[fitbit-assets] land-01 2025-06-11: not a valid wear day"]
    assert "no heart-rate data" in body["[fitbit-assets] land-01 2025-06-12: not a valid wear day"]
    # The check and its severity in Dagster's words, as the check's page shows them.
    assert "daily_adherence:daily_adherence_valid_day, severity WARN, run " in body[
        "[fitbit-assets] land-01 2025-06-11: not a valid wear day"]
    assert sorted((auth, p["participant_id"], p["local_date"], [a["kind"] for a in p["alerts"]]) for auth, p in received) == [
        ("Bearer tok-123", "land-01", "2025-06-11", [NON_ADHERENT]),
        ("Bearer tok-123", "land-01", "2025-06-12", [NON_ADHERENT]),
    ]
    assert query("SELECT participant_id, local_date, kind, channels FROM alert_sent ORDER BY 2") == [
        ("land-01", D1 + dt.timedelta(days=1), NON_ADHERENT, "email,webhook"),
        ("land-01", D1 + dt.timedelta(days=2), NON_ADHERENT, "email,webhook"),
    ]

    # Nothing new in the event log: nothing sent.
    result, cursor = run_sensor(instance, warehouse, channel, cursor)
    assert result.skip_message == "0 message(s) sent"
    # A re-run of the same days fails the same checks again: read, but not re-sent.
    assert materialize_days(instance, study_files, warehouse, tags=tags).success
    result, cursor = run_sensor(instance, warehouse, channel, cursor)
    assert "0 message(s) sent" in result.skip_message
    # Even from an empty cursor (e.g. a sensor reset), the alert_sent table keeps it quiet.
    result, _ = run_sensor(instance, warehouse, channel, None)
    assert "0 message(s) sent" in result.skip_message
    assert len(inbox.messages) == 2 and len(received) == 2

    # A failed run (no export landed for that day) is one more message, once, to the data engineer.
    missing = D1 + dt.timedelta(days=5)
    failed = materialize_days(instance, study_files, warehouse, participant_day=ParticipantDayKey(missing, LANDING.participant_id))
    assert not failed.success
    result, cursor = run_sensor(instance, warehouse, channel, cursor)
    assert "1 message(s) sent" in result.skip_message
    assert inbox.messages[-1][2]["Subject"] == "[fitbit-assets] land-01 2025-06-15: pipeline run failed"
    assert inbox.messages[-1][1] == ["engineer@study.test"]
    assert received[-1][1]["alerts"][0]["kind"] == RUN_FAILED and "no data yet" in received[-1][1]["text"]
    assert received[-1][1]["audience"] == ENGINEER
    result, cursor = run_sensor(instance, warehouse, channel, cursor)
    assert len(inbox.messages) == 3 and len(received) == 3


def test_alerts_tell_not_wearing_from_not_syncing(instance, study_files, roster, warehouse, query, webhook_server):
    """Berlin (CEST): day 2 ends 2025-06-11 22:00 UTC and the phone syncs on 2025-06-12 09:00 UTC, so day 2's
    missing heart rate was never recorded (not wearing); day 3 has had no sync since it ended (not syncing)."""
    webhook_url, received = webhook_server
    channel = AlertChannelResource(webhook_url=webhook_url)
    d2, d3 = D1 + dt.timedelta(days=1), D1 + dt.timedelta(days=2)
    drop_day(study_files, LANDING, D1, all_worn)
    drop_day(study_files, LANDING, d2, worn_only(480, 960))
    drop_day(study_files, LANDING, d3, worn_only(600, 700))
    sync_file = Path(study_files.landing_dir) / LANDING.participant_id / "land-01_syncEvents.csv"
    sync_file.parent.mkdir(parents=True, exist_ok=True)
    header = "DateTime,SyncDateUTC,Provider,DeviceName\n"
    sync_file.write_text(header + "6/12/2025 11:00:00 AM,6/12/2025 9:00:00 AM,Fitbit,Charge 6\n")
    assert materialize_days(instance, study_files, warehouse, tags=range_tags(LANDING.participant_id, D1, d3)).success

    result, cursor = run_sensor(instance, warehouse, channel, None)
    assert "2 message(s) sent" in result.skip_message
    by_day = {p["local_date"]: p for _, p in received}
    assert [a["kind"] for a in by_day["2025-06-11"]["alerts"]] == [NOT_WEARING]
    assert by_day["2025-06-11"]["subject"] == "[fitbit-assets] land-01 2025-06-11: not wearing (the device synced, too little heart rate)"
    assert "synced after the day ended (2025-06-12 09:00 UTC)" in by_day["2025-06-11"]["text"]
    assert "worn 480 of 1440 min" in by_day["2025-06-11"]["text"]
    assert [a["kind"] for a in by_day["2025-06-12"]["alerts"]] == [NOT_SYNCING]
    assert "last sync 2025-06-12 09:00 UTC" in by_day["2025-06-12"]["text"] and "ask the participant to open" in by_day["2025-06-12"]["text"]

    # The phone syncs the next morning and nothing more arrives for day 3: it is now "not wearing", one new
    # message; day 2 is not re-sent.
    sync_file.write_text(sync_file.read_text() + "6/13/2025 10:00:00 AM,6/13/2025 8:00:00 AM,Fitbit,Charge 6\n")
    assert materialize_days(instance, study_files, warehouse, participant_day=ParticipantDayKey(d3, LANDING.participant_id)).success
    result, cursor = run_sensor(instance, warehouse, channel, cursor)
    assert "1 message(s) sent" in result.skip_message
    assert (received[-1][1]["local_date"], [a["kind"] for a in received[-1][1]["alerts"]]) == ("2025-06-12", [NOT_WEARING])
    assert query("SELECT local_date, kind FROM alert_sent ORDER BY 1, 2") == [
        (d2, NOT_WEARING), (d3, NOT_SYNCING), (d3, NOT_WEARING)
    ]


def test_sensor_without_channels_keeps_alerts_pending_until_one_is_configured(
    instance, study_files, roster, warehouse, webhook_server
):
    drop_day(study_files, LANDING, D1, worn_only(0, 60))
    assert materialize_days(instance, study_files, warehouse, participant_day=ParticipantDayKey(D1, LANDING.participant_id)).success
    result, cursor = run_sensor(instance, warehouse, AlertChannelResource(), None)
    assert result.skip_message.startswith("1 message(s) pending (1 for the coordinator): no channel configured")
    assert cursor is None
    again, cursor = run_sensor(instance, warehouse, AlertChannelResource(), cursor)
    assert again.skip_message == result.skip_message  # still pending, not dropped
    webhook_url, received = webhook_server
    sent, _ = run_sensor(instance, warehouse, AlertChannelResource(webhook_url=webhook_url), cursor)
    assert sent.skip_message.startswith("1 message(s) sent")
    assert [p["participant_id"] for _, p in received] == [LANDING.participant_id]


def test_unreachable_channel_keeps_the_cursor_for_a_retry(instance, study_files, roster, warehouse, query):
    drop_day(study_files, LANDING, D1, worn_only(0, 60))
    assert materialize_days(instance, study_files, warehouse, participant_day=ParticipantDayKey(D1, LANDING.participant_id)).success
    dead = AlertChannelResource(webhook_url="http://127.0.0.1:9/nothing-listens", timeout_seconds=2)
    context = dg.build_sensor_context(instance=instance, cursor=None, resources={"warehouse": warehouse, "alert_channel": dead})
    with pytest.raises(Exception, match="not delivered"):
        coordinator_alert_sensor(context)
    assert context.cursor is None
    assert query("SELECT count(*) FROM alert_sent") == [(0,)]


def test_quarantined_day_goes_to_the_data_engineer_once_never_to_the_coordinator(
    instance, study_files, roster, warehouse, query, smtp_server
):
    smtp_port, inbox = smtp_server
    email = {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_tls": "none", "smtp_to": "coordinator@study.test"}
    coordinator_only = AlertChannelResource(**email)
    path = drop_day(study_files, LANDING, D1, all_worn)
    path.write_text(path.read_text() + "23:59:59,400\n")  # one impossible value: the whole day is refused
    assert materialize_days(instance, study_files, warehouse, participant_day=ParticipantDayKey(D1, LANDING.participant_id)).success
    result, cursor = run_sensor(instance, warehouse, coordinator_only, None)
    assert result.skip_message == "0 message(s) sent; 1 not sent, no channel for them (1 for the data engineer)"
    assert inbox.messages == []  # the valid-day check does not judge a quarantined day: no coordinator alert

    with_engineer = AlertChannelResource(**email, engineer_to="engineer@study.test")
    result, _ = run_sensor(instance, warehouse, with_engineer, None)
    assert result.skip_message.startswith("1 message(s) sent")
    [(_, to, message)] = inbox.messages
    assert to == ["engineer@study.test"]
    assert message["Subject"].strip() == "[fitbit-assets] land-01 2025-06-10: check failed: validated_heart_rate_schema"
    assert "quarantined" in message.get_content() and str(path) in message.get_content()
    result, _ = run_sensor(instance, warehouse, with_engineer, None)
    assert result.skip_message == "0 message(s) sent" and len(inbox.messages) == 1
