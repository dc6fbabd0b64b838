"""Push to alert through the real daemon (issue 21): a signed Google Health notification accepted by the webhook
receiver -> ``google_health_notification_sensor`` launches the participant-day -> the run pulls and loads it ->
``coordinator_alert_sensor`` e-mails the coordinator that the day is not a valid wear day. The chain is checked;
its time is measured by ``benchmarks/push_to_alert.py`` (no timing asserts here)."""

import datetime as dt

import pytest

from fitbit_assets.devtools.push_path import WORN_SECONDS, open_push_path
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets_tests.support.database import create_database

CHAIN_TIMEOUT_S = 900  # a loaded 2-core machine; the chain has two sensor intervals (30 s, 120 s) and one run


@pytest.fixture
def push_dsn(embedded_pg):
    return embedded_pg.dsn(create_database(embedded_pg, "push"))


def test_a_notification_reaches_the_coordinator_as_an_alert(tmp_path, push_dsn):
    day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)  # ended in Berlin, a date partition
    with open_push_path(tmp_path / "state", push_dsn, day) as push:
        assert fetch_all(push_dsn, "SELECT count(*) FROM heart_rate") == [(0,)]
        push.notify()
        times = push.wait_for_alert(CHAIN_TIMEOUT_S)
    assert times.run_status == "SUCCESS"
    assert f"gh-push {day.isoformat()}" in times.subject  # the notified participant-day, nothing else
    assert fetch_all(push_dsn, "SELECT count(*) FROM heart_rate WHERE participant_id = 'gh-push'") == [
        (WORN_SECONDS // 5,)]
    assert fetch_all(push_dsn, "SELECT processed FROM google_health_notification") == [(True,)]
    assert fetch_all(push_dsn, "SELECT valid_day FROM daily_adherence WHERE participant_id = 'gh-push'") == [(False,)]
