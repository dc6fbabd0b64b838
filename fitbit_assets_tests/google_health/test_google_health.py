"""The Google Health API connector against a loopback fake of the API (no live credentials), through the real
Dagster assets and the real embedded PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from fitbit_assets import settings
from fitbit_assets.defs.alerts.collect import consent_alerts
from fitbit_assets.defs.alerts.messages import plan_messages
from fitbit_assets.defs.datasets.factory import (
    DATASET_ASSETS,
    heart_rate_rows,
    raw_heart_rate_csv,
    validated_heart_rate,
)
from fitbit_assets.defs.google_health import assets as google_health_assets
from fitbit_assets.defs.google_health.assets import google_health_pull, oauth_client, token_store
from fitbit_assets.domain.roster import Participant, read_roster, write_roster
from fitbit_assets.google_health import SCOPES
from fitbit_assets.google_health.client import ApiError, HealthApiClient, ResponseShapeError, UserQuota
from fitbit_assets.google_health.enrol import EnrolmentError, connect
from fitbit_assets.google_health.oauth import ConsentLostError
from fitbit_assets.google_health.tokens import RECONSENT_NEEDED
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.serving.query import cohort_overview
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets_tests.conftest import materialize_graph
from fitbit_assets_tests.google_health_fake import FakeGoogleHealth, FakeServer

DAY = dt.date(2026, 11, 2)
ALICE = Participant("gh-alice", 0, "Europe/Berlin", dt.date(2026, 11, 1), "google_health")
BOB = Participant("gh-bob", 0, "America/New_York", dt.date(2026, 11, 1), "google_health")
SYN = Participant("syn-01", 11, "America/New_York", dt.date(2026, 11, 1), "synthetic")
PULL_AND_LOAD = [google_health_pull, raw_heart_rate_csv, validated_heart_rate, heart_rate_rows,
                 *DATASET_ASSETS["breathing_rate"]]


@pytest.fixture
def fake():
    with FakeServer(FakeGoogleHealth(page_size=1000)) as server:
        yield server


@pytest.fixture
def configured(fake, study_files, warehouse_dsn, monkeypatch):
    write_roster(Path(study_files.roster_path), [ALICE, BOB, SYN])
    monkeypatch.setenv("FITBIT_GOOGLE_CLIENT_ID", "study-client.apps.googleusercontent.com")
    monkeypatch.setenv("FITBIT_TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("FITBIT_GOOGLE_API_URL", fake.url)
    monkeypatch.setenv("FITBIT_GOOGLE_OAUTH_URL", fake.url + "/o/oauth2/v2/auth")
    monkeypatch.setenv("FITBIT_GOOGLE_TOKEN_URL", fake.url + "/token")
    monkeypatch.setattr(google_health_assets, "BACKOFF_SECONDS", 0.01)
    return settings.load()


@pytest.fixture
def gh_instance(study_files):
    import dagster as dg

    with dg.instance_for_test() as instance:
        yield instance


def enrol(participant, fake, configured, warehouse, study_files, user, fitbit_user_id=None):
    """Consent given on another device: the redirect URL pasted back (the fake auto-approves as ``user``)."""
    fake.fake.approve_as = user

    def paste(_prompt):
        return requests.get(printed[-1], allow_redirects=False, timeout=5).headers["Location"]

    printed: list[str] = []
    connect(participant.participant_id, read_roster(Path(study_files.roster_path)), oauth_client(configured),
            token_store(configured, warehouse), api_url=configured.google_api_url, paste=paste,
            say=lambda text: printed.append(text.split("\n")[-1]), fitbit_user_id=fitbit_user_id)


def day_start_utc(participant, day=DAY):
    return dt.datetime.combine(day, dt.time(), tzinfo=participant.zone).astimezone(dt.timezone.utc)


def key(participant, day=DAY):
    return ParticipantDayKey(day, participant.participant_id)


def label(participant, day=DAY):
    return str(ParticipantDayKey(day, participant.participant_id))


def test_connect_catches_the_loopback_redirect_and_stores_only_ciphertext(
    fake, configured, warehouse, study_files, query
):
    printed: list[str] = []
    done = threading.Event()

    def say(text):
        printed.append(text)
        if text.startswith("Waiting"):
            done.set()

    worker = threading.Thread(target=connect, args=(ALICE.participant_id, read_roster(Path(study_files.roster_path)),
                              oauth_client(configured), token_store(configured, warehouse)),
                              kwargs={"say": say, "timeout": 20, "api_url": configured.google_api_url})
    worker.start()
    assert done.wait(10)
    consent_url = printed[0].split("\n")[1]
    # The participant's browser: the fake consents and redirects to the loopback catcher.
    assert requests.get(consent_url, timeout=10).status_code == 200
    worker.join(20)
    assert printed[-1].startswith(f"participant {ALICE.participant_id} connected")
    assert fake.fake.granted_scopes == [" ".join(SCOPES)]  # only what the pipeline reads
    [(state, scopes, refresh, access)] = query(
        "SELECT consent_state, scopes, refresh_token_enc, access_token_enc FROM google_health_account")
    assert state == "active" and scopes == list(SCOPES)
    issued = set(fake.fake.refresh_tokens) | set(fake.fake.access_tokens)
    assert issued and not any(token.encode() in bytes(refresh) + bytes(access) for token in issued)
    assert not any(token in text for token in issued for text in printed)


def test_connect_with_a_web_client_needs_its_registered_fixed_port(fake, configured, warehouse, study_files, query):
    """A Desktop client (the fake's default, the test above) takes any loopback port; a Web client only the
    registered redirect URI: ``connect --port`` with that port works, the default random port is refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake.fake.client_type = "web"
    fake.fake.registered_redirect_uris = {f"http://127.0.0.1:{port}/callback"}
    roster = read_roster(Path(study_files.roster_path))

    def consent(port_asked: int) -> tuple[requests.Response, list[str], list[Exception]]:
        printed: list[str] = []
        failed: list[Exception] = []
        waiting = threading.Event()

        def say(text):
            printed.append(text)
            if text.startswith("Waiting"):
                waiting.set()

        def run():
            try:
                connect(ALICE.participant_id, roster, oauth_client(configured), token_store(configured, warehouse),
                        say=say, timeout=5, api_url=configured.google_api_url, port=port_asked)
            except EnrolmentError as exc:
                failed.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        assert waiting.wait(10)
        answer = requests.get(printed[0].split("\n")[1], timeout=10)  # the participant's browser
        worker.join(20)
        return answer, printed, failed

    with warehouse.connection():
        pass  # the schema
    refused, _, failed = consent(0)
    assert refused.status_code == 400 and refused.json()["error"] == "redirect_uri_mismatch"
    assert "no redirect within 5 s" in str(failed[0])
    assert query("SELECT count(*) FROM google_health_account") == [(0,)]
    answer, printed, failed = consent(port)
    assert answer.status_code == 200 and not failed
    assert printed[-1].startswith(f"participant {ALICE.participant_id} connected")
    assert query("SELECT consent_state FROM google_health_account") == [("active",)]


def test_pull_paginates_deduplicates_and_replaces_late_data(
    fake, configured, gh_instance, warehouse, study_files, query, tmp_path
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    start = day_start_utc(ALICE)
    fake.fake.add_samples("alice", start + dt.timedelta(hours=8), 3 * 3600)  # 2160 points at 5 s
    fake.fake.add_samples("alice", start - dt.timedelta(hours=1), 3600)  # the evening before: another day
    fake.fake.repeat_across_pages = True  # overlapping pages repeat points
    fake.fake.respiratory_rates["alice"] = {DAY: 14.6, DAY - dt.timedelta(days=1): 15.2}

    first = materialize_graph(PULL_AND_LOAD, gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert first.success
    rows = "SELECT count(*), count(DISTINCT ts) FROM heart_rate WHERE participant_id = 'gh-alice'"
    assert query(rows) == [(2160, 2160)]
    raw = json.loads((Path(study_files.landing_dir) / "google_health/gh-alice" / DAY.isoformat() / "heart-rate.json")
                     .read_text())
    assert len(raw["pages"]) == 3 and raw["pages"][-1]["nextPageToken"] == ""  # 1000 + 1000 + 160, to the end
    assert query("SELECT source_format, source_files FROM heart_rate_lineage") == [
        ("google_health", [f"google_health/gh-alice/{DAY}/heart-rate.json"])]
    breathing = "SELECT local_date, full_sleep_breathing_rate FROM breathing_rate_daily"
    assert query(breathing) == [(DAY, 14.6)]  # the family's table, through its own validation

    # The device syncs the afternoon later: the schedule's trailing window pulls the day again.
    fake.fake.add_samples("alice", start + dt.timedelta(hours=14), 3600)
    fake.fake.respiratory_rates["alice"][DAY] = 14.9  # recomputed after the late sync
    second = materialize_graph(PULL_AND_LOAD, gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert second.success
    assert query(rows) == [(2880, 2880)]
    pull = second.asset_materializations_for_node("google_health_pull")[0].metadata
    assert pull["days_pulled_new_or_changed"].value == [label(ALICE)]
    assert query(breathing) == [(DAY, 14.9)]

    # No token in run logs, metadata, landing files or the database (only ciphertext there).
    issued = set(fake.fake.refresh_tokens) | set(fake.fake.access_tokens)
    logs = " ".join(str(record) for result in (first, second)
                    for record in gh_instance.all_logs(result.run_id))
    files = b"".join(p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file() and p.stat().st_size < 10**7)
    dump = str(query("SELECT * FROM google_health_account"))
    assert issued and not any(t in logs or t.encode() in files or t in dump for t in issued)


def test_revoked_consent_and_a_failing_day_hold_back_no_one_else(
    fake, configured, gh_instance, warehouse, study_files, query
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    enrol(BOB, fake, configured, warehouse, study_files, "bob")
    for user, participant in (("alice", ALICE), ("bob", BOB)):
        for day in (DAY, DAY + dt.timedelta(days=1)):
            fake.fake.add_samples(user, day_start_utc(participant, day) + dt.timedelta(hours=9), 600)
    fake.fake.revoke("alice")
    with warehouse.connection() as conn, conn, conn.cursor() as cur:  # Alice's access token expired as well
        cur.execute("UPDATE google_health_account SET access_token_expires_at = now() WHERE participant_id = 'gh-alice'")
    fake.fake.fail_next = [(503, None)] * 5  # Bob's first day: 503 on every attempt

    import dagster as dg

    result = dg.materialize(
        [google_health_pull], instance=gh_instance, resources={"study_files": study_files, "warehouse": warehouse},
        tags=range_tags([ALICE.participant_id, BOB.participant_id], DAY, DAY + dt.timedelta(days=1)),
        raise_on_error=False,
    )
    assert result.success
    metadata = result.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["participants_reconsent_needed"].value == ["gh-alice"]
    failed = metadata["days_failed"].value
    bob_day = f"{label(BOB)} heart-rate"  # only that type of that day: its other types came through
    assert list(failed) == [bob_day] and "HTTP 503 UNAVAILABLE" in failed[bob_day]
    assert metadata["days_pulled_new_or_changed"].value == [label(BOB, DAY + dt.timedelta(days=1))]
    [(state, reason)] = query("SELECT consent_state, consent_reason FROM participant_consent "
                              "WHERE participant_id = 'gh-alice'")
    assert state == RECONSENT_NEEDED and "invalid_grant" in reason
    assert query("SELECT refresh_token_enc FROM google_health_account WHERE participant_id = 'gh-alice'") == [(None,)]

    # The dashboard's cohort view puts her first, and the coordinator alerts say what to do.
    with warehouse.connection() as conn:
        for participant in (ALICE, BOB, SYN):
            upsert_participant(conn, participant)
        conn.commit()
        cohort = cohort_overview(conn)
        alerts = consent_alerts(conn)
    assert cohort[0]["participant_id"] == "gh-alice" and cohort[0]["status"] == "reconsent_needed"
    assert cohort[0]["status_words"] == "re-consent" and "`fitbit-assets connect gh-alice`" in cohort[0]["action"]
    assert "invalid_grant" in cohort[0]["evidence"] and cohort[1]["consent_state"] == "active"
    [message] = plan_messages(alerts, set())
    assert message.audience == "coordinator" and message.participant_id == "gh-alice"
    assert "fitbit-assets connect gh-alice" in message.text and "re-consent (" in message.subject

    # Re-consent makes the participant active again.
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    assert query("SELECT consent_state FROM participant_consent WHERE participant_id = 'gh-alice'") == [("active",)]


def test_a_crash_between_refresh_and_save_keeps_the_account(fake, configured, warehouse, study_files, query):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.rotate_refresh_tokens = True
    store, oauth = token_store(configured, warehouse), oauth_client(configured)
    stored = "SELECT refresh_token_enc, token_version FROM google_health_account"
    [(before, version)] = query(stored)

    def crash():
        raise KeyboardInterrupt("killed between the token endpoint's answer and the save")

    with pytest.raises(KeyboardInterrupt):
        store.access_token(ALICE.participant_id, oauth, force_refresh=True, after_refresh=crash)
    assert query(stored) == [(before, version)]  # nothing half-saved
    # The stored (older) refresh token still works, and this time the rotated one is saved with the access token.
    token = store.access_token(ALICE.participant_id, oauth, force_refresh=True)
    [(after, new_version)] = query(stored)
    newest = list(fake.fake.refresh_tokens)[-1]
    assert Fernet(configured.token_encryption_key.get_secret_value().encode()).decrypt(bytes(after)).decode() == newest
    assert new_version == version + 1 and fake.fake.access_tokens[token][0] == "alice"
    # Until it is about to expire the saved access token is used, without a refresh.
    refreshes = sum(1 for r in fake.fake.requests if r[1] == "/token")
    assert store.access_token(ALICE.participant_id, oauth) == token
    assert sum(1 for r in fake.fake.requests if r[1] == "/token") == refreshes
    # Two minutes before expiry (inside the 5-minute margin) it is refreshed ahead of time.
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        cur.execute("UPDATE google_health_account SET access_token_expires_at = now() + interval '2 minutes'")
    assert store.access_token(ALICE.participant_id, oauth) != token
    assert sum(1 for r in fake.fake.requests if r[1] == "/token") == refreshes + 1


class FakeClock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def fake_client(fake, token="unused", **kwargs) -> tuple[HealthApiClient, FakeClock]:
    clock = FakeClock()
    tokens = {"current": token}
    client = HealthApiClient(fake.url, lambda force: tokens["current"], UserQuota(sleep=clock.sleep, clock=lambda: clock.now),
                             sleep=clock.sleep, backoff_seconds=0.01, **kwargs)
    return client, clock


FILTER = 'heart_rate.sample_time.physical_time >= "2026-11-02T00:00:00Z" AND heart_rate.sample_time.physical_time < "2026-11-03T00:00:00Z"'


def test_429_honours_retry_after_and_the_user_quota_is_shared(fake):
    fake.fake.approve_as = "carol"
    fake.fake.add_samples("carol", dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone.utc), 600)
    access = fake.fake._issue("carol", refresh=False)["access_token"]
    client, clock = fake_client(fake, access)
    fake.fake.fail_next = [(429, 7)]
    pages = client.list_pages("heart-rate", FILTER)
    assert sum(len(p["dataPoints"]) for p in pages) == 120
    assert clock.sleeps == [7.0]  # waited exactly the server's hint, then succeeded

    # 300 requests a minute per user: the 301st waits for the window, whichever day asked.
    quota = UserQuota(per_minute=300, sleep=clock.sleep, clock=lambda: clock.now)
    clock.sleeps.clear()
    for _ in range(301):
        quota.acquire()
    assert clock.sleeps == [60.0]


def test_timeouts_retry_then_fail_the_request_naming_it(fake):
    access = fake.fake._issue("carol", refresh=False)["access_token"]
    client, clock = fake_client(fake, access, timeout=0.3, max_attempts=2)
    fake.fake.stall_next = [1.0, 1.0]
    with pytest.raises(ApiError, match=r"GET /v4/users/me/dataTypes/heart-rate/dataPoints .*gave up after 2 attempts.*Timeout"):
        client.list_pages("heart-rate", FILTER)
    assert len(clock.sleeps) == 1  # one backoff between the two attempts


def test_a_malformed_response_fails_that_day_naming_request_and_field(
    fake, configured, gh_instance, warehouse, study_files
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    fake.fake.malformed = True
    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert not result.success  # the only day of the run failed
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = failure.event_specific_data.error.message
    assert "dataTypes/heart-rate/dataPoints" in text and "dataPoints[0].heartRate.beatsPerMinute" in text
    assert "'fast'" in text


def test_the_api_reader_sees_consent_states_but_no_tokens(fake, configured, warehouse, study_files, warehouse_dsn):
    import psycopg2

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    conn = psycopg2.connect(warehouse_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET ROLE fitbit_api_reader")
            cur.execute("SELECT participant_id, consent_state FROM participant_consent")
            assert cur.fetchall() == [("gh-alice", "active")]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT refresh_token_enc FROM google_health_account")
    finally:
        conn.close()


def test_sleep_becomes_the_sleep_family_document(fake, configured, gh_instance, warehouse, study_files):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    bedtime = day_start_utc(ALICE) - dt.timedelta(minutes=46)  # 23:14 local the evening before
    night = [("AWAKE", 2), ("LIGHT", 60), ("DEEP", 90), ("REM", 45), ("AWAKE", 8), ("LIGHT", 200), ("REM", 53)]
    fake.fake.add_sleep("alice", bedtime, night, point_id="9876543210")
    nap = fake.fake.add_sleep("alice", day_start_utc(ALICE) + dt.timedelta(hours=13), [("ASLEEP", 25), ("RESTLESS", 5)],
                              sleep_type="CLASSIC", nap=True, point_id="nap-0001-uuid")
    fake.fake.add_sleep("alice", bedtime - dt.timedelta(days=1), [("LIGHT", 300)])  # ended the day before
    fake.fake.page_size = 1  # one sleep per page: the day's two sleeps take two pages

    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert result.success
    document = json.loads(Path(study_files.raw_path("sleep", ParticipantDayKey(DAY, ALICE.participant_id), ".json"))
                          .read_text())
    main, short = sorted(document["sleep"], key=lambda s: not s["isMainSleep"])
    assert main == {
        "logId": 9876543210, "dateOfSleep": DAY.isoformat(),
        "startTime": f"{DAY - dt.timedelta(days=1)}T23:14:00.000", "endTime": f"{DAY}T06:52:00.000",
        "duration": 458 * 60000, "minutesAsleep": 448, "minutesAwake": 10, "timeInBed": 458, "efficiency": 98,
        "isMainSleep": True, "type": "stages",
        "levels": {"data": [
            {"dateTime": f"{DAY - dt.timedelta(days=1)}T23:14:00.000", "level": "wake", "seconds": 120},
            {"dateTime": f"{DAY - dt.timedelta(days=1)}T23:16:00.000", "level": "light", "seconds": 3600},
            {"dateTime": f"{DAY}T00:16:00.000", "level": "deep", "seconds": 5400},
            {"dateTime": f"{DAY}T01:46:00.000", "level": "rem", "seconds": 2700},
            {"dateTime": f"{DAY}T02:31:00.000", "level": "wake", "seconds": 480},
            {"dateTime": f"{DAY}T02:39:00.000", "level": "light", "seconds": 12000},
            {"dateTime": f"{DAY}T05:59:00.000", "level": "rem", "seconds": 3180}],
            "summary": {"wake": {"count": 2, "minutes": 10}, "light": {"count": 2, "minutes": 260},
                        "deep": {"count": 1, "minutes": 90}, "rem": {"count": 2, "minutes": 98}}},
    }
    assert short["type"] == "classic" and not short["isMainSleep"] and short["logId"] > 0
    assert [level["level"] for level in short["levels"]["data"]] == ["asleep", "restless"]
    # The contract's rule: the day's summary equals the sums over its sleeps.
    assert document["summary"] == {"totalMinutesAsleep": 448 + 25, "totalSleepRecords": 2, "totalTimeInBed": 458 + 30}
    raw = json.loads(Path(study_files.landing_dir, "google_health/gh-alice", DAY.isoformat(), "sleep.json").read_text())
    assert len(raw["pages"]) == 2 and nap in raw["pages"][0]["dataPoints"][0]["name"]


def test_on_wrist_minutes_from_steps_presence_and_true_zeros(fake, configured, gh_instance, warehouse, study_files,
                                                             query):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    morning = day_start_utc(ALICE) + dt.timedelta(hours=8)
    fake.fake.add_steps("alice", morning, 120, per_minute=40)  # walking
    fake.fake.add_steps("alice", morning + dt.timedelta(hours=2), 60, per_minute=None)  # worn, still: true zeros
    fake.fake.add_steps("alice", morning + dt.timedelta(hours=1), 30, per_minute=40)  # a re-sync overlapping the walk
    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert result.success
    assert query("SELECT local_date, on_wrist_minutes, true_zero_minutes FROM google_health_wear_daily") == [
        (DAY, 180, 60)]
    # The afternoon syncs late: the trailing window's pull replaces the day's minutes.
    fake.fake.add_steps("alice", morning + dt.timedelta(hours=6), 90, per_minute=None)
    assert materialize_graph([google_health_pull], gh_instance, study_files, warehouse, participant_day=key(ALICE)).success
    assert query("SELECT on_wrist_minutes, true_zero_minutes FROM google_health_wear_daily") == [(270, 150)]


def test_cli_connect_with_a_pasted_redirect(fake, configured, warehouse_dsn, study_files, query, monkeypatch, capsys):
    from fitbit_assets import cli
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setenv("FITBIT_ROSTER_PATH", study_files.roster_path)
    fake.fake.approve_as = "bob"

    def paste(prompt):
        consent_url = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(fake.url))
        return requests.get(consent_url, allow_redirects=False, timeout=5).headers["Location"]

    monkeypatch.setattr("builtins.input", paste)
    assert cli.main(["connect", BOB.participant_id, "--paste"]) == 0
    assert capsys.readouterr().out.startswith(f"participant {BOB.participant_id} connected")
    assert query("SELECT participant_id, consent_state FROM participant_consent") == [(BOB.participant_id, "active")]

    assert cli.main(["connect", SYN.participant_id, "--paste"]) == 2  # not a google_health participant
    assert "has source 'synthetic', not 'google_health'" in capsys.readouterr().err


SPO2_AND_AZM = [google_health_pull, *DATASET_ASSETS["spo2"], *DATASET_ASSETS["active_zone_minutes"]]


def local_time(participant, day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=participant.zone).astimezone(dt.timezone.utc)


def test_spo2_and_active_zone_minutes_land_in_their_family_tables_and_late_data_replaces_the_day(
    fake, configured, gh_instance, warehouse, study_files, query
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    night = local_time(ALICE, DAY - dt.timedelta(days=1), 23, 30)
    fake.fake.add_oxygen_saturation("alice", night, 420)  # 23:30 .. 06:30, one sample a minute
    fake.fake.add_oxygen_saturation("alice", night - dt.timedelta(days=1), 60)  # the night before: the day before
    fake.fake.add_oxygen_saturation("alice", local_time(ALICE, DAY, 14), 30)  # an afternoon nap: tomorrow's night
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 8), 20, "FAT_BURN")
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 8, 20), 10, "CARDIO")
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 8, 30), 5, "PEAK")
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 8, 25), 5, "CARDIO")  # a re-sync sends it again
    fake.fake.page_size = 100  # SpO2: 5 pages
    fake.fake.repeat_across_pages = True  # overlapping pages repeat points

    first = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert first.success
    metadata = first.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["spo2_days_new_or_changed"].value == [label(ALICE)]
    assert metadata["active_zone_minutes_days_new_or_changed"].value == [label(ALICE)]
    spo2 = "SELECT local_date, count(*), count(DISTINCT ts), min(ts), max(ts), round(avg(spo2)::numeric, 2) FROM spo2 GROUP BY 1"
    assert query(spo2) == [(DAY, 420, 420, night, night + dt.timedelta(minutes=419), 95)]
    raw = json.loads(Path(study_files.landing_dir, "google_health/gh-alice", DAY.isoformat(), "oxygen-saturation.json")
                     .read_text())
    assert len(raw["pages"]) == 5 and raw["pages"][-1]["nextPageToken"] == ""
    azm = ("SELECT local_date, count(*), sum(fat_burn), sum(cardio), sum(peak), min(ts) FROM active_zone_minutes "
           "GROUP BY 1")
    assert query(azm) == [(DAY, 35, 20, 20, 10, local_time(ALICE, DAY, 8))]
    assert query("SELECT active_zone_minutes FROM active_zone_minutes_daily") == [(50,)]

    # The watch syncs the rest of the night and an evening run late: the trailing window's pull replaces the day.
    fake.fake.add_oxygen_saturation("alice", night + dt.timedelta(minutes=420), 45, percentage=93.0)
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 19), 15, "CARDIO")
    second = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, participant_day=key(ALICE))
    assert second.success
    [(_, rows, distinct, _, last, _)] = query(spo2)
    assert (rows, distinct, last) == (465, 465, night + dt.timedelta(minutes=464))
    assert query(azm)[0][1:5] == (50, 20, 50, 10)

    # Pulled again without news: the documents keep their bytes, so nothing downstream runs again for the day.
    third = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, participant_day=key(ALICE))
    metadata = third.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["spo2_days_new_or_changed"].value == []
    assert metadata["active_zone_minutes_days_new_or_changed"].value == []
    assert query("SELECT count(*) FROM spo2") == [(465,)]


def test_a_malformed_active_zone_minutes_point_fails_only_that_participants_days(
    fake, configured, gh_instance, warehouse, study_files, query
):
    import dagster as dg

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    enrol(BOB, fake, configured, warehouse, study_files, "bob")
    days = (DAY, DAY + dt.timedelta(days=1))
    for user, participant in (("alice", ALICE), ("bob", BOB)):
        for day in days:
            fake.fake.add_active_zone_minutes(user, local_time(participant, day, 18), 12, "PEAK")
            fake.fake.add_oxygen_saturation(user, local_time(participant, day, 3), 60)
    fake.fake.malformed_points = {("alice", "active-zone-minutes")}

    result = dg.materialize(
        SPO2_AND_AZM, instance=gh_instance, resources={"study_files": study_files, "warehouse": warehouse},
        tags=range_tags([ALICE.participant_id, BOB.participant_id], days[0], days[1]),
        raise_on_error=False,
    )
    assert result.success
    failed = result.asset_materializations_for_node("google_health_pull")[0].metadata["days_failed"].value
    assert sorted(failed) == sorted(f"{label(ALICE, day)} active_zone_minutes" for day in days)
    reason = failed[f"{label(ALICE)} active_zone_minutes"]
    assert "GET /v4/users/me/dataTypes/active-zone-minutes/dataPoints" in reason
    assert "field page 1 dataPoints[0].activeZoneMinutes.heartRateZone" in reason and "'WARP'" in reason
    # Bob's days load in full, Alice's SpO2 (pulled before her AZM failed) as well; her AZM stays away.
    assert query("SELECT participant_id, local_date, sum(peak) FROM active_zone_minutes GROUP BY 1, 2 ORDER BY 1, 2") == [
        ("gh-bob", day, 24) for day in days]
    assert query("SELECT participant_id, count(*) FROM spo2 GROUP BY 1 ORDER BY 1") == [("gh-alice", 120), ("gh-bob", 120)]


def test_spo2_and_azm_conversions_name_the_bad_field_and_write_nothing_without_data():
    from fitbit_assets.domain.local_days import LocalDay
    from fitbit_assets.google_health.intraday import azm_document, spo2_document

    day = LocalDay(DAY, ALICE.timezone)
    assert spo2_document([{"dataPoints": [], "nextPageToken": ""}], day, "GET x") is None  # no data yet: no document
    assert azm_document([{"dataPoints": []}], day, "GET x") is None
    sample = {"oxygenSaturation": {"percentage": 97, "sampleTime": {"physicalTime": "2026-11-02T02:00:00Z"}}}
    assert spo2_document([{"dataPoints": [sample]}], day, "GET x") == {
        "dateTime": "2026-11-02", "minutes": [{"value": 97.0, "minute": "2026-11-02T03:00:00"}]}  # Berlin, UTC+1
    with pytest.raises(ResponseShapeError, match=r"GET x: field page 1 dataPoints\[1\]\.oxygenSaturation\.sampleTime"
                                                 r"\.physicalTime: expected an RFC 3339 time, got None"):
        spo2_document([{"dataPoints": [sample, {"oxygenSaturation": {"percentage": 97}}]}], day, "GET x")
    with pytest.raises(ResponseShapeError, match=r"dataPoints\[0\]\.activeZoneMinutes: missing"):
        azm_document([{"dataPoints": [sample]}], day, "GET x")
    zero = {"activeZoneMinutes": {"interval": {"startTime": "2026-11-02T07:00:00Z"}, "heartRateZone": "CARDIO",
                                  "activeZoneMinutes": "two"}}
    with pytest.raises(ResponseShapeError, match=r"activeZoneMinutes\.activeZoneMinutes: expected an integer, got 'two'"):
        azm_document([{"dataPoints": [zero]}], day, "GET x")


def test_daily_rollups_become_the_activity_summary_with_true_zeros_and_late_data(
    fake, configured, gh_instance, warehouse, study_files, query
):
    import dagster as dg

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    worn, still, unsynced = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    fake.fake.set_daily_activity("alice", worn, steps=8432, millimetres=6_120_500, kcal=2143.6, minutes={
        "SEDENTARY": 700, "LIGHTLY_ACTIVE": 180, "MODERATELY_ACTIVE": 25, "VERY_ACTIVE": 15},
        day_start=day_start_utc(ALICE, worn))
    # Worn all day without moving: the API's true zeros are zeros, not a missing day.
    fake.fake.set_daily_activity("alice", still, steps=0, millimetres=0, kcal=1650.2, minutes={"SEDENTARY": 900},
                                 day_start=day_start_utc(ALICE, still))

    def pull():
        return dg.materialize(
            [google_health_pull, *DATASET_ASSETS["activity_summary"]], instance=gh_instance,
            resources={"study_files": study_files, "warehouse": warehouse}, raise_on_error=False,
            tags=range_tags(ALICE.participant_id, worn, unsynced))

    first = pull()
    assert first.success
    metadata = first.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["activity_summary_days_new_or_changed"].value == [label(ALICE, worn), label(ALICE, still)]
    landing = {m.partition: m.metadata for m in first.asset_materializations_for_node("raw_activity_summary_json")}
    # nothing synced: no document
    assert landing[unsynced.isoformat()]["participants_waiting_for_data_list"].value == [ALICE.participant_id]
    assert [landing[day.isoformat()]["participants_waiting_for_data"].value for day in (worn, still)] == [0, 0]
    rows = ("SELECT local_date, steps, distance_km, calories_out, activity_calories, calories_bmr, sedentary_minutes, "
            "lightly_active_minutes, fairly_active_minutes, very_active_minutes FROM activity_daily_summary "
            "WHERE participant_id = 'gh-alice' ORDER BY local_date")
    loaded = query(rows)
    assert [r[:2] + r[3:] for r in loaded] == [(worn, 8432, 2144, None, None, 700, 180, 25, 15),
                                               (still, 0, 1650, None, None, 900, 0, 0, 0)]
    assert [r[2] for r in loaded] == [pytest.approx(6.1205), 0.0]
    raw = json.loads(Path(study_files.landing_dir, "google_health/gh-alice", worn.isoformat(), "steps.daily-rollup.json")
                     .read_text())
    assert raw["pages"][0]["rollupDataPoints"][0]["steps"] == {"countSum": "8432"}
    rollups = [r for r in fake.fake.requests if r[1].endswith(":dailyRollUp")]
    assert {r[2]["range"]["start"]["date"]["day"] for r in rollups} == {worn.day, still.day, unsynced.day}
    # activity-level is list / reconcile only in the reference: read by listing, never rolled up
    assert not [r for r in rollups if "/activity-level/" in r[1]]
    assert len([r for r in fake.fake.requests if r[1] == "/v4/users/me/dataTypes/activity-level/dataPoints"]) == 3

    # The evening syncs late: the day's rollups grow and the pull replaces the day's row.
    fake.fake.set_daily_activity("alice", worn, steps=11020, millimetres=8_004_000, kcal=2410.0, minutes={
        "SEDENTARY": 650, "LIGHTLY_ACTIVE": 210, "MODERATELY_ACTIVE": 30, "VERY_ACTIVE": 40},
        day_start=day_start_utc(ALICE, worn))
    second = pull()
    assert second.success
    metadata = second.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["activity_summary_days_new_or_changed"].value == [label(ALICE, worn)]
    assert [r[:2] + r[3:] for r in query(rows)] == [(worn, 11020, 2410, None, None, 650, 210, 30, 40),
                                                    (still, 0, 1650, None, None, 900, 0, 0, 0)]


def test_activity_rollup_conversion_names_request_and_field():
    from fitbit_assets.domain.local_days import LocalDay
    from fitbit_assets.google_health.activity import activity_summary_document

    civil = {"date": {"year": 2026, "month": 11, "day": 2}, "time": {}}
    day = LocalDay(DAY, ALICE.timezone)

    def pages(value_field, value):
        return [{"rollupDataPoints": [{"civilStartTime": civil, value_field: value}]}]

    def level(kind, start, end):
        return {"activityLevel": {"activityLevelType": kind, "interval": {"startTime": start, "endTime": end}}}

    good = {"steps": pages("steps", {"countSum": "10"}), "distance": pages("distance", {"millimetersSum": "7000"}),
            "total-calories": pages("totalCalories", {"kcalSum": 1800.4})}
    levels = [{"dataPoints": [level("VERY_ACTIVE", "2026-11-02T08:00:00Z", "2026-11-02T08:01:30.500Z"),
                              level("ACTIVITY_LEVEL_TYPE_UNSPECIFIED", "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z")]}]
    assert activity_summary_document(good, levels, day, "GET levels")["summary"] == {
        "steps": 10, "distances": [{"activity": "total", "distance": 0.007}], "caloriesOut": 1800,
        "sedentaryMinutes": 0, "lightlyActiveMinutes": 0, "fairlyActiveMinutes": 0, "veryActiveMinutes": 2}
    assert activity_summary_document({**good, "distance": [{"rollupDataPoints": []}]}, levels, day, "x") is None
    assert activity_summary_document(good, [{"dataPoints": []}], day, "x") is None  # no level synced yet
    bad = [{"dataPoints": [level("ZOOMING", "2026-11-02T08:00:00Z", "2026-11-02T08:01:00Z")]}]
    with pytest.raises(ResponseShapeError, match=r"GET levels: field page 1 dataPoints\[0\]\.activityLevel"
                                                 r"\.activityLevelType"):
        activity_summary_document(good, bad, day, "GET levels")
    with pytest.raises(ResponseShapeError, match=r"dataTypes/steps/.*rollupDataPoints\[0\]\.steps\.countSum: expected a "
                                                 r"non-negative integer, got -3"):
        activity_summary_document({**good, "steps": pages("steps", {"countSum": -3})}, levels, day, "x")


# --- What the reference documents beyond the wire format (issue 21)

def pull_days(gh_instance, study_files, warehouse, first, last, assets=(google_health_pull,)):
    import dagster as dg

    participants = sorted({first.participant_id, last.participant_id})
    result = dg.materialize(list(assets), instance=gh_instance,
                            resources={"study_files": study_files, "warehouse": warehouse}, raise_on_error=False,
                            tags=range_tags(participants, first.local_date, last.local_date))
    assert result.success
    return result, {k: v.value for k, v in result.asset_materializations_for_node("google_health_pull")[0]
                    .metadata.items()}


def test_a_refused_data_type_skips_no_other_type(fake, configured, gh_instance, warehouse, study_files, query):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    fake.fake.add_steps("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 30, 40)
    fake.fake.set_daily_activity("alice", DAY, steps=1200, millimetres=900_000, kcal=1900.0,
                                 minutes={"SEDENTARY": 600, "LIGHTLY_ACTIVE": 30}, day_start=day_start_utc(ALICE))
    fake.fake.refuse_types = {"oxygen-saturation": 400, "total-calories": 500}  # one fails for good, one on retries

    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert sorted(metadata["days_failed"]) == [f"{label(ALICE)} activity_summary", f"{label(ALICE)} spo2"]
    assert "HTTP 400 INVALID_ARGUMENT" in metadata["days_failed"][f"{label(ALICE)} spo2"]
    # Pulled after the refused ones: heart rate before them, on-wrist minutes after them.
    assert metadata["days_pulled_new_or_changed"] == [label(ALICE)] and metadata["on_wrist_days"] == 1
    assert query("SELECT on_wrist_minutes FROM google_health_wear_daily") == [(30,)]

    # A 403 for one type whose scope the token holds: that type alone is withheld. Steps (same scope, same
    # activity-summary pull) still gives the on-wrist minutes, in this run and the next.
    fake.fake.refuse_types = {"activity-level": 403}
    for _ in range(2):
        _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
        assert metadata["data_types_withheld"] == {"gh-alice": ["activity-level"]} and metadata["on_wrist_days"] == 1
    assert query("SELECT withheld_data_types FROM participant_consent") == [(["activity-level"],)]
    assert sum(r[1].endswith("/steps/dataPoints") for r in fake.fake.api_requests()) == 3


def test_a_withheld_scope_skips_only_its_types_and_tells_the_coordinator(
    fake, configured, gh_instance, warehouse, study_files, query
):
    from fitbit_assets.google_health import ACTIVITY, SLEEP

    fake.fake.withhold_scopes = {SLEEP}  # the participant unticks "sleep" on Google's consent screen
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    assert query("SELECT withheld_data_types, withheld_reason FROM participant_consent") == [
        (["sleep"], "scope not granted at consent")]
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    fake.fake.add_steps("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 30, 40)
    fake.fake.add_sleep("alice", day_start_utc(ALICE) - dt.timedelta(hours=1), [("LIGHT", 300)])

    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert metadata["days_pulled_new_or_changed"] == [label(ALICE)] and metadata["on_wrist_days"] == 1
    assert metadata["data_types_withheld"] == {"gh-alice": ["sleep"]} and metadata["days_failed"] == {}
    assert not [r for r in fake.fake.requests if "/sleep/" in r[1]]  # never asked for what was not granted

    # Later the activity scope is withdrawn (Google's account page): a 403 for its types only.
    fake.fake.user_scopes["alice"] = " ".join(s for s in fake.fake.user_scopes["alice"].split() if s != ACTIVITY)
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=12), 60)
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert metadata["days_pulled_new_or_changed"] == [label(ALICE)] and metadata["on_wrist_days"] == 0
    withheld, reason, state = query("SELECT withheld_data_types, withheld_reason, consent_state FROM participant_consent")[0]
    assert state == "active" and {"sleep", "active-zone-minutes", "steps"} <= set(withheld)
    assert "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in reason
    with warehouse.connection() as conn:
        [alert] = consent_alerts(conn)
    assert alert.kind == "data_withheld" and "sleep" in alert.text and "fitbit-assets connect gh-alice" in alert.text


def test_account_not_linked_and_a_legacy_account_are_participant_states_with_the_action(
    fake, configured, gh_instance, warehouse, study_files, query
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    enrol(BOB, fake, configured, warehouse, study_files, "bob")
    for user, participant in (("alice", ALICE), ("bob", BOB)):
        fake.fake.add_samples(user, day_start_utc(participant) + dt.timedelta(hours=9), 600)
    fake.fake.account_errors = {"alice": "not_linked", "bob": "legacy"}

    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(BOB))
    assert metadata["participants_account_not_linked"] == ["gh-alice"]
    assert metadata["participants_legacy_account"] == ["gh-bob"]
    assert metadata["days_failed"] == {}  # not "days failed" every day: a coordinator action
    states = dict((p, (s, r)) for p, s, r in query(
        "SELECT participant_id, consent_state, consent_reason FROM participant_consent ORDER BY 1"))
    assert states["gh-alice"][0] == "account_not_linked" and "ACCOUNT_NOT_LINKED" in states["gh-alice"][1]
    assert "Action: ask the participant to open the Fitbit app" in states["gh-alice"][1]
    assert states["gh-bob"][0] == "legacy_account" and "signs out of the Fitbit app" in states["gh-bob"][1]
    with warehouse.connection() as conn:
        kinds = {(a.participant_id, a.kind) for a in consent_alerts(conn)}
    assert kinds == {("gh-alice", "account_not_linked"), ("gh-bob", "legacy_account")}

    # Alice sets up her profile: the next pull reads her data and she is active again; Bob still needs a consent.
    fake.fake.account_errors = {"bob": "legacy"}
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(BOB))
    assert metadata["days_pulled_new_or_changed"] == [label(ALICE)]
    assert metadata["participants_legacy_account"] == ["gh-bob"] and metadata["participants_reconsent_needed"] == []
    assert query("SELECT participant_id, consent_state FROM participant_consent ORDER BY 1") == [
        ("gh-alice", "active"), ("gh-bob", "legacy_account")]


def test_401_invalid_authenticator_refreshes_once_then_needs_reconsent(fake):
    client, _ = fake_client(fake, "ya29.expired")
    with pytest.raises(ConsentLostError, match=r"HTTP 401 UNAUTHENTICATED \(reason INVALID_AUTHENTICATOR\)"):
        client.list_pages("heart-rate", FILTER)
    assert len(fake.fake.api_requests()) == 2  # the request, one refresh, the request again


def test_enrolment_stores_the_health_user_id_and_links_a_migrated_fitbit_participant(
    fake, configured, warehouse, study_files, query
):
    fake.fake.legacy_user_ids["alice"] = "7QX9ZB"
    with warehouse.connection():
        pass  # the schema
    with pytest.raises(EnrolmentError, match="Fitbit user id is '7QX9ZB', not 'ABC123'"):
        enrol(ALICE, fake, configured, warehouse, study_files, "alice", fitbit_user_id="ABC123")
    assert query("SELECT count(*) FROM google_health_account") == [(0,)]  # a foreign account stores nothing
    enrol(ALICE, fake, configured, warehouse, study_files, "alice", fitbit_user_id="7QX9ZB")
    assert query("SELECT health_user_id, legacy_user_id FROM google_health_account") == [
        (FakeGoogleHealth.health_user_id("alice"), "7QX9ZB")]
    assert ("GET", "/v4/users/me/identity") in {r[:2] for r in fake.fake.requests}
    with pytest.raises(EnrolmentError, match="already connected to another participant"):
        enrol(BOB, fake, configured, warehouse, study_files, "alice")  # Alice's account for Bob: refused
    # An account without a Google Health profile, or a legacy Fitbit account: refused at enrolment with the action.
    for error, action in (("not_linked", "open the Fitbit app and set up"), ("legacy", "signs out of the Fitbit app")):
        fake.fake.account_errors = {"bob": error}
        with pytest.raises(EnrolmentError, match=f"nothing stored.*Action: .*{action}"):
            enrol(BOB, fake, configured, warehouse, study_files, "bob")
    assert query("SELECT count(*) FROM google_health_account") == [(1,)]


def test_request_budgets_per_user_default_to_the_unverified_quota_and_the_project_budget_is_shared(
    warehouse, warehouse_dsn
):
    from fitbit_assets.google_health.client import ProjectBudget

    assert UserQuota().per_minute == 150 == settings.Settings().google_user_requests_per_minute
    assert settings.Settings().google_project_requests_per_minute == 15000  # 250 QPS, unverified
    # Two runs (two connections, as two processes have) share one bucket: 6 requests a minute, 4 each.
    sleeps = []
    with warehouse.connection() as first, warehouse.connection() as second:
        runs = [ProjectBudget(conn, per_minute=6, sleep=sleeps.append) for conn in (first, second)]
        waits = [runs[i % 2].acquire() for i in range(8)]
    assert waits[:6] == [0.0] * 6  # a minute's worth between them
    assert all(wait > 5 for wait in waits[6:]) and sleeps == waits[6:]  # the 7th and 8th wait ~10 s each


def test_each_request_of_a_pull_takes_the_participants_shared_budget_and_the_projects(
    fake, configured, gh_instance, warehouse, study_files, monkeypatch
):
    from fitbit_assets.google_health.client import ProjectBudget

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    taken: list[tuple[str, int]] = []
    take = ProjectBudget.acquire
    monkeypatch.setattr(ProjectBudget, "acquire", lambda self: taken.append((self.name, self.per_minute)) or take(self))
    sent_before = len(fake.fake.api_requests())
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    sent = len(fake.fake.api_requests()) - sent_before
    # Two runs pulling Alice at once (a push-launched run and the daily one) draw from one bucket of 150 a minute.
    assert sent == metadata["api_requests"] > 5
    assert sorted(set(taken)) == [("project", 15000), ("user:gh-alice", 150)]
    assert taken.count(("user:gh-alice", 150)) == taken.count(("project", 15000)) == sent
    # Two runs (two connections) sharing the participant's bucket, 3 a minute: the 4th request waits ~20 s.
    sleeps: list[float] = []
    with warehouse.connection() as first, warehouse.connection() as second:
        runs = [ProjectBudget(conn, per_minute=3, sleep=sleeps.append, name="user:gh-bob") for conn in (first, second)]
        waits = [take(runs[i % 2]) for i in range(4)]
    assert waits[:3] == [0.0] * 3 and waits[3] > 15 and sleeps == waits[3:]


def test_429_503_504_back_off_exponentially_with_jitter(fake, monkeypatch):
    import random

    access = fake.fake._issue("carol", refresh=False)["access_token"]
    client, clock = fake_client(fake, access)
    client.backoff_seconds = 1.0
    monkeypatch.setattr(random, "random", iter([0.0, 1.0, 0.5]).__next__)  # the jitter factors 0.5, 1.0, 0.75
    fake.fake.fail_next = [(429, None), (503, None), (504, None)]
    client.list_pages("heart-rate", FILTER)
    assert clock.sleeps == [0.5, 2.0, 3.0]  # 1, 2, 4 s exponential, each scaled by its jitter


def test_lists_and_rollups_read_the_wearable_by_default_and_the_source_family_is_configurable(
    fake, configured, gh_instance, warehouse, study_files, monkeypatch
):
    import pandas as pd

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    fake.fake.add_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=9), 600)
    fake.fake.add_phone_samples("alice", day_start_utc(ALICE) + dt.timedelta(hours=15), 600)  # a phone app's
    fake.fake.set_daily_activity("alice", DAY, steps=1200, millimetres=900_000, kcal=1900.0,
                                 minutes={"SEDENTARY": 600}, day_start=day_start_utc(ALICE))
    fake.fake.phone_rollups["alice"] = {("steps", DAY): {"countSum": "5000"}}  # the phone's own step counter
    csv = Path(study_files.raw_heart_rate_path(ParticipantDayKey(DAY, ALICE.participant_id)))
    summary = Path(study_files.raw_path("activity_summary", key(ALICE), ".json"))

    pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert len(pd.read_csv(csv)) == 120 and json.loads(summary.read_text())["summary"]["steps"] == 1200
    lists = [r for r in fake.fake.api_requests() if r[0] == "GET" and r[1].endswith("/dataPoints")]
    families = {r[1].split("/")[5]: r[2].get("dataSourceFamily") for r in lists}
    assert families.pop("sleep") is None  # the list refuses a source family for sleep
    assert set(map(str, families.values())) == {"['users/me/dataSourceFamilies/google-wearables']"}
    rollups = [r[2] for r in fake.fake.api_requests() if r[1].endswith(":dailyRollUp")]
    assert len(rollups) == 3 and {r.get("dataSourceFamily") for r in rollups} == {
        "users/me/dataSourceFamilies/google-wearables"}

    monkeypatch.setenv("FITBIT_GOOGLE_DATA_SOURCE_FAMILY", "all-sources")
    pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE))
    assert len(pd.read_csv(csv)) == 130 and json.loads(summary.read_text())["summary"]["steps"] == 6200


def test_main_sleep_is_googles_and_every_stage_and_zone_value_is_accepted(
    fake, configured, gh_instance, warehouse, study_files, query
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    night_start = day_start_utc(ALICE) - dt.timedelta(hours=2)
    # Google calls the shorter, staged sleep the main one (its rule: the longest sleep *with stages*).
    fake.fake.add_sleep("alice", night_start, [("AWAKE", 5), ("LIGHT", 100), ("DEEP", 60), ("REM", 40)],
                        main_sleep=True, point_id="101")
    fake.fake.add_sleep("alice", day_start_utc(ALICE) + dt.timedelta(hours=12),
                        [("ASLEEP", 200), ("RESTLESS", 10), ("SLEEP_STAGE_TYPE_UNSPECIFIED", 5), ("AWAKE", 30)],
                        main_sleep=False, point_id="102")  # a STAGES sleep with classic stages: a classic log
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 18), 10, "CARDIO")
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 19), 3, "HEART_RATE_ZONE_UNSPECIFIED")

    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE),
                            (google_health_pull, *DATASET_ASSETS["sleep"], *DATASET_ASSETS["active_zone_minutes"]))
    assert metadata["days_failed"] == {}
    document = json.loads(Path(study_files.raw_path("sleep", ParticipantDayKey(DAY, ALICE.participant_id), ".json"))
                          .read_text())
    by_id = {s["logId"]: s for s in document["sleep"]}
    assert by_id[101]["isMainSleep"] and not by_id[102]["isMainSleep"] and by_id[101]["duration"] < by_id[102]["duration"]
    assert by_id[102]["type"] == "classic"
    assert [run["level"] for run in by_id[102]["levels"]["data"]] == ["asleep", "restless", "awake"]
    assert query("SELECT count(*), sum(cardio) FROM active_zone_minutes") == [(10, 20)]
    assert query("SELECT sleep_records, main_sleep_start FROM sleep_daily") == [(2, night_start)]


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


# --- Push notifications

@pytest.fixture
def webhook(fake, warehouse_dsn):
    from fastapi.testclient import TestClient

    from fitbit_assets.serving.api.google_health_webhook import WebhookConfig, create_webhook_app

    config = WebhookConfig(warehouse_dsn, "Bearer study-webhook-secret", fake.fake.webhook_public_key_pem())
    with TestClient(create_webhook_app(config)) as client:
        yield client


def post(webhook, delivery):
    body, headers = delivery
    return webhook.post("/google-health/notifications", content=body, headers=headers)


def test_the_webhook_verifies_the_endpoint_and_stores_only_signed_notifications(
    fake, configured, warehouse, study_files, webhook, query
):
    from cryptography.hazmat.primitives.asymmetric import ec

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    with_secret, without = FakeGoogleHealth.verification_requests("Bearer study-webhook-secret")
    assert post(webhook, with_secret).status_code == 201 and post(webhook, without).status_code == 401
    assert post(webhook, FakeGoogleHealth.verification_requests("Bearer guessed")[0]).status_code == 401

    start = day_start_utc(ALICE) + dt.timedelta(hours=9)
    signed = fake.fake.notification("alice", "heart-rate", start, start + dt.timedelta(minutes=5))
    answer = post(webhook, signed)
    assert answer.status_code == 200 and answer.json() == {"stored": 1, "unknown_users": 0}
    # The header of earlier reference pages, and the subscriber's secret sent along (health.v4.json): accepted;
    # another secret is refused even when signed.
    for extra in ({"signature_header": "X-HEALTHAPI-SIGNATURE"}, {"authorization": "Bearer study-webhook-secret"}):
        delivery = fake.fake.notification("alice", "steps", start, start, **extra)
        assert post(webhook, delivery).json() == {"stored": 1, "unknown_users": 0}
    assert post(webhook, fake.fake.notification("alice", "steps", start, start,
                                                authorization="Bearer guessed")).status_code == 401
    forged = fake.fake.notification("alice", "steps", start, start, key=ec.generate_private_key(ec.SECP256R1()))
    assert post(webhook, forged).status_code == 403
    tampered = (signed[0].replace(b"heart-rate", b"steps"), signed[1])
    assert post(webhook, tampered).status_code == 403
    assert post(webhook, (signed[0], {"Content-Type": "application/json"})).status_code == 403  # unsigned
    stranger = fake.fake.notification("mallory", "steps", start, start)
    assert post(webhook, stranger).json() == {"stored": 0, "unknown_users": 1}  # answered, so Google stops retrying
    assert query("SELECT participant_id, data_type, interval_start, interval_end, processed "
                 "FROM google_health_notification ORDER BY notification_id") == [
        ("gh-alice", "heart-rate", start, start + dt.timedelta(minutes=5), False),
        *[("gh-alice", "steps", start, start, False)] * 2]


def test_the_notification_sensor_requests_runs_for_the_affected_participant_days(
    fake, configured, gh_instance, warehouse, study_files, webhook, query
):
    import dagster as dg

    from fitbit_assets.defs.google_health.sensors import google_health_notification_sensor
    from fitbit_assets.lib.partitions import range_tags

    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    evening = local_time(ALICE, DAY, 22)
    post(webhook, fake.fake.notification("alice", "sleep", evening, evening + dt.timedelta(hours=9)))  # into DAY + 1
    post(webhook, fake.fake.notification("alice", "steps", local_time(ALICE, DAY, 9), local_time(ALICE, DAY, 10)))

    def tick():
        context = dg.build_sensor_context(instance=gh_instance,
                                          resources={"warehouse": warehouse, "study_files": study_files})
        return google_health_notification_sensor(context)

    result = tick()
    [request] = result.run_requests
    assert request.tags == range_tags(ALICE.participant_id, DAY, DAY + dt.timedelta(days=1))
    assert query("SELECT bool_and(processed) FROM google_health_notification") == [(True,)]
    assert isinstance(tick(), dg.SkipReason)  # handled once


def test_the_webhook_app_is_built_from_the_settings(fake, configured, warehouse_dsn, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from fitbit_assets.serving.api.google_health_webhook import app_from_settings

    with pytest.raises(settings.SettingsError, match="FITBIT_GOOGLE_WEBHOOK_AUTHORIZATION"):
        app_from_settings()
    key_file = tmp_path / "google-health-webhook.pem"
    key_file.write_text(fake.fake.webhook_public_key_pem())
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setenv("FITBIT_GOOGLE_WEBHOOK_AUTHORIZATION", "Bearer from-settings")
    monkeypatch.setenv("FITBIT_GOOGLE_WEBHOOK_PUBLIC_KEY_PATH", str(key_file))
    with TestClient(app_from_settings()) as client:
        assert [post(client, request).status_code
                for request in FakeGoogleHealth.verification_requests("Bearer from-settings")] == [201, 401]


# --- Per-participant push subscriptions (projects.subscribers.subscriptions, MANUAL policy)
SUBSCRIBER = "projects/study-project/subscribers/study-push"


@pytest.fixture
def subscriber(fake, configured, tmp_path, monkeypatch):
    """The study's subscriber (MANUAL for every notified type) and a service-account key the fake knows."""
    from fitbit_assets.google_health.subscriptions import NOTIFIED_TYPES

    fake.fake.add_subscriber(SUBSCRIBER, NOTIFIED_TYPES)
    key_file = tmp_path / "push-service-account.json"
    key_file.write_text(json.dumps(fake.fake.service_account_key(fake.url + "/token")))
    monkeypatch.setenv("FITBIT_GOOGLE_SUBSCRIBER", SUBSCRIBER)
    monkeypatch.setenv("FITBIT_GOOGLE_SUBSCRIBER_CREDENTIALS_PATH", str(key_file))
    return settings.load()


def subscribing_enrol(participant, fake, subscriber, warehouse, study_files, user) -> list[str]:
    """``connect`` as the CLI runs it with FITBIT_GOOGLE_SUBSCRIBER set: what it printed."""
    from fitbit_assets.defs.google_health.assets import enrolment_subscriber

    fake.fake.approve_as = user
    roster = read_roster(Path(study_files.roster_path))
    printed: list[str] = []
    connect(participant.participant_id, roster, oauth_client(subscriber), token_store(subscriber, warehouse),
            api_url=subscriber.google_api_url, say=lambda text: printed.append(text.split("\n")[-1]),
            paste=lambda _prompt: requests.get(printed[0], allow_redirects=False, timeout=5).headers["Location"],
            subscribe=enrolment_subscriber(subscriber, warehouse, roster))
    return printed


def test_a_participant_subscription_follows_enrolment_re_consent_and_withdrawal(
    fake, subscriber, gh_instance, warehouse, study_files, query
):
    import dagster as dg

    from fitbit_assets.defs.google_health.sensors import google_health_subscription_sensor
    from fitbit_assets.google_health import SLEEP

    alice = fake.fake.health_user_id("alice")

    def types_of(subscription) -> set[str]:
        return {name.removeprefix(f"users/{alice}/dataTypes/") for name in subscription["dataTypes"]}

    checked = dt.datetime.now(dt.timezone.utc).isoformat()  # the sensor's last full check: just now

    def tick(cursor=None):
        context = dg.build_sensor_context(instance=gh_instance, cursor=cursor or checked,
                                          resources={"warehouse": warehouse, "study_files": study_files})
        result = google_health_subscription_sensor(context)
        tick.cursor = context.cursor
        return result

    def subscription_calls() -> int:
        return sum("/subscriptions" in path for _, path, _ in fake.fake.api_requests())

    # The service as the webhooks page describes it (every notified type subscribable; see the next test for
    # health.v4.json's narrower list). Enrolment without the sleep scope: one subscription for her healthUserId,
    # the granted notified types only, created with the project's service account (a participant's token is
    # refused there).
    fake.fake.subscribable_types = None
    fake.fake.withhold_scopes = {SLEEP}
    assert "push subscription: created" in subscribing_enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")
    [first] = fake.fake.user_subscriptions(alice)
    assert "sleep" not in types_of(first) and {"heart-rate", "steps", "activity-level"} <= types_of(first)
    assert query("SELECT subscription_name FROM google_health_account") == [(first["name"],)]

    # Re-consent with every scope: the same subscription renewed with sleep; again unchanged: kept as it is.
    fake.fake.withhold_scopes = set()
    assert "push subscription: renewed" in subscribing_enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")
    [renewed] = fake.fake.user_subscriptions(alice)
    assert renewed["name"] == first["name"] and "sleep" in types_of(renewed)
    assert "push subscription: kept" in subscribing_enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")

    # In step: the sensor sends Google nothing.
    calls = subscription_calls()
    assert "all in step" in tick().skip_message and subscription_calls() == calls

    # Lost on Google's side: unseen until the daily full check lists it and creates it again (cursor moved on).
    fake.fake.subscriptions.clear()
    assert "all in step" in tick().skip_message and subscription_calls() == calls
    a_day_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)).isoformat()
    assert "(full check): {'gh-alice': 'created'}" in tick(a_day_ago).skip_message
    assert len(fake.fake.user_subscriptions(alice)) == 1 and tick.cursor > a_day_ago
    assert "(full check): all in step" in tick(a_day_ago).skip_message  # listed, found as wanted

    # Consent lost (revoked at Google): the sensor deletes the subscription; a re-consent creates a new one.
    token_store(subscriber, warehouse).mark_consent_lost(ALICE.participant_id, "invalid_grant: Token has been revoked")
    assert "'gh-alice': 'deleted'" in tick().skip_message and fake.fake.user_subscriptions(alice) == []
    assert query("SELECT subscription_name, subscribed_data_types FROM google_health_account") == [(None, [])]
    assert "push subscription: created" in subscribing_enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")

    # Withdrawn from the study (roster row removed): deleted on the next tick; her history stays.
    write_roster(Path(study_files.roster_path), [BOB, SYN])
    assert "'gh-alice': 'deleted'" in tick().skip_message and fake.fake.subscriptions == {}


def test_a_subscription_falls_back_to_the_types_health_v4_json_lists(fake, subscriber, gh_instance, warehouse,
                                                                     study_files, query):
    """health.v4.json's Subscription.dataTypes allows altitude, distance, floors, sleep, steps and weight only (the
    fake's default): the wider set is refused, the subscription holds distance, sleep and steps, and the stored
    state keeps it in step (no retry every tick)."""
    import dagster as dg

    from fitbit_assets.defs.google_health.sensors import google_health_subscription_sensor
    from fitbit_assets.google_health.subscriptions import NOTIFIED_TYPES

    alice = fake.fake.health_user_id("alice")
    printed = subscribing_enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")
    assert "push subscription: created (the types health.v4.json lists: the others were refused)" in printed
    [subscription] = fake.fake.user_subscriptions(alice)
    assert subscription["dataTypes"] == [f"users/{alice}/dataTypes/{t}" for t in ("distance", "sleep", "steps")]
    refused = [r for r in fake.fake.responses if r[0] == "POST" and r[2] == 400]
    assert len(refused) == 1 and "active-zone-minutes cannot be subscribed to" in refused[0][3]["error"]["message"]
    assert query("SELECT subscribed_data_types FROM google_health_account") == [
        ([f"users/{alice}/dataTypes/{t}" for t in NOTIFIED_TYPES],)]  # what was reconciled for: in step
    context = dg.build_sensor_context(instance=gh_instance, cursor=dt.datetime.now(dt.timezone.utc).isoformat(),
                                      resources={"warehouse": warehouse, "study_files": study_files})
    assert "all in step" in google_health_subscription_sensor(context).skip_message
    assert "push subscription: kept (the types health.v4.json lists" in subscribing_enrol(
        ALICE, fake, subscriber, warehouse, study_files, "alice")[-1]


def test_subscription_calls_need_the_project_credentials_and_a_manual_subscriber(fake, subscriber, warehouse,
                                                                                  study_files):
    from fitbit_assets.defs.google_health.assets import subscriptions_client
    from fitbit_assets.google_health.subscriptions import NOTIFIED_TYPES, SubscriptionsClient, sync_subscriptions

    # A participant's own token cannot manage subscriptions (cloud-platform scope, health.subscriptions.*).
    user_token = fake.fake._issue("alice", refresh=False)["access_token"]
    with pytest.raises(ApiError, match="403 PERMISSION_DENIED.*ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
        SubscriptionsClient(fake.url, SUBSCRIBER, lambda: user_token).of_user("1")

    # An AUTOMATIC subscriber has no subscriptions to create: the failure is reported and nothing is stored, so
    # the next tick retries (e.g. once the subscriber is switched to MANUAL).
    enrol(ALICE, fake, subscriber, warehouse, study_files, "alice")
    fake.fake.add_subscriber(SUBSCRIBER, NOTIFIED_TYPES, policy="AUTOMATIC")
    client = subscriptions_client(subscriber)
    [outcome] = sync_subscriptions(warehouse.connection, client, {ALICE.participant_id}).values()
    assert outcome.startswith("failed: POST projects/study-project/subscribers/study-push/subscriptions: HTTP 400 "
                              "FAILED_PRECONDITION") and "no MANUAL config" in outcome
    # Credentials that do not load fail the same way, naming the file.
    missing = subscriber.model_copy(update={"google_subscriber_credentials_path": Path("/nonexistent/key.json")})
    [outcome] = sync_subscriptions(warehouse.connection, subscriptions_client(missing), {ALICE.participant_id}).values()
    assert outcome.startswith("failed: project credentials (/nonexistent/key.json): FileNotFoundError")
    fake.fake.add_subscriber(SUBSCRIBER, NOTIFIED_TYPES)
    [outcome] = sync_subscriptions(warehouse.connection, client, {ALICE.participant_id}).values()
    assert outcome.startswith("created")
