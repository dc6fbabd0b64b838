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
from fitbit_assets.google_health.enrol import connect
from fitbit_assets.google_health.tokens import RECONSENT_NEEDED
from fitbit_assets.lib.partitions import ParticipantDayKey
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
        instance.add_dynamic_partitions("participant", [ALICE.participant_id, BOB.participant_id, SYN.participant_id])
        yield instance


def enrol(participant, fake, configured, warehouse, study_files, user):
    """Consent given on another device: the redirect URL pasted back (the fake auto-approves as ``user``)."""
    fake.fake.approve_as = user

    def paste(_prompt):
        return requests.get(printed[-1], allow_redirects=False, timeout=5).headers["Location"]

    printed: list[str] = []
    connect(participant.participant_id, read_roster(Path(study_files.roster_path)), oauth_client(configured),
            token_store(configured, warehouse), paste=paste, say=lambda text: printed.append(text.split("\n")[-1]))


def day_start_utc(participant, day=DAY):
    return dt.datetime.combine(day, dt.time(), tzinfo=participant.zone).astimezone(dt.timezone.utc)


def key(participant, day=DAY):
    return ParticipantDayKey(day, participant.participant_id).key


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
                              kwargs={"say": say, "timeout": 20})
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


def test_pull_paginates_deduplicates_and_replaces_late_data(
    fake, configured, gh_instance, warehouse, study_files, query, tmp_path
):
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    start = day_start_utc(ALICE)
    fake.fake.add_samples("alice", start + dt.timedelta(hours=8), 3 * 3600)  # 2160 points at 5 s
    fake.fake.add_samples("alice", start - dt.timedelta(hours=1), 3600)  # the evening before: another day
    fake.fake.repeat_across_pages = True  # overlapping pages repeat points
    fake.fake.respiratory_rates["alice"] = {DAY: 14.6, DAY - dt.timedelta(days=1): 15.2}

    first = materialize_graph(PULL_AND_LOAD, gh_instance, study_files, warehouse, partition_key=key(ALICE))
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
    second = materialize_graph(PULL_AND_LOAD, gh_instance, study_files, warehouse, partition_key=key(ALICE))
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
        tags={"dagster/asset_partition_range_start": key(ALICE), "dagster/asset_partition_range_end": key(BOB, DAY + dt.timedelta(days=1))},
        raise_on_error=False,
    )
    assert result.success
    metadata = result.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["participants_reconsent_needed"].value == ["gh-alice"]
    failed = metadata["days_failed"].value
    assert list(failed) == [label(BOB)] and "HTTP 503 UNAVAILABLE" in failed[label(BOB)]
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
    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, partition_key=key(ALICE))
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

    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, partition_key=key(ALICE))
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
    result = materialize_graph([google_health_pull], gh_instance, study_files, warehouse, partition_key=key(ALICE))
    assert result.success
    assert query("SELECT local_date, on_wrist_minutes, true_zero_minutes FROM google_health_wear_daily") == [
        (DAY, 180, 60)]
    # The afternoon syncs late: the trailing window's pull replaces the day's minutes.
    fake.fake.add_steps("alice", morning + dt.timedelta(hours=6), 90, per_minute=None)
    assert materialize_graph([google_health_pull], gh_instance, study_files, warehouse, partition_key=key(ALICE)).success
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

    first = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, partition_key=key(ALICE))
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
    second = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, partition_key=key(ALICE))
    assert second.success
    [(_, rows, distinct, _, last, _)] = query(spo2)
    assert (rows, distinct, last) == (465, 465, night + dt.timedelta(minutes=464))
    assert query(azm)[0][1:5] == (50, 20, 50, 10)

    # Pulled again without news: the documents keep their bytes, so nothing downstream runs again for the day.
    third = materialize_graph(SPO2_AND_AZM, gh_instance, study_files, warehouse, partition_key=key(ALICE))
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
        tags={"dagster/asset_partition_range_start": key(ALICE), "dagster/asset_partition_range_end": key(BOB, days[1])},
        raise_on_error=False,
    )
    assert result.success
    failed = result.asset_materializations_for_node("google_health_pull")[0].metadata["days_failed"].value
    assert sorted(failed) == sorted(label(ALICE, day) for day in days)
    reason = failed[label(ALICE)]
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
        "SEDENTARY": 700, "LIGHTLY_ACTIVE": 180, "MODERATELY_ACTIVE": 25, "VERY_ACTIVE": 15})
    # Worn all day without moving: the API's true zeros are zeros, not a missing day.
    fake.fake.set_daily_activity("alice", still, steps=0, millimetres=0, kcal=1650.2, minutes={"SEDENTARY": 900})

    def pull():
        return dg.materialize(
            [google_health_pull, *DATASET_ASSETS["activity_summary"]], instance=gh_instance,
            resources={"study_files": study_files, "warehouse": warehouse}, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": key(ALICE, worn),
                  "dagster/asset_partition_range_end": key(ALICE, unsynced)})

    first = pull()
    assert first.success
    metadata = first.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["activity_summary_days_new_or_changed"].value == [label(ALICE, worn), label(ALICE, still)]
    landing = first.asset_materializations_for_node("raw_activity_summary_json")[0].metadata
    assert landing["days_waiting_for_data"].value == [label(ALICE, unsynced)]  # nothing synced: no document
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

    # The evening syncs late: the day's rollups grow and the pull replaces the day's row.
    fake.fake.set_daily_activity("alice", worn, steps=11020, millimetres=8_004_000, kcal=2410.0, minutes={
        "SEDENTARY": 650, "LIGHTLY_ACTIVE": 210, "MODERATELY_ACTIVE": 30, "VERY_ACTIVE": 40})
    second = pull()
    assert second.success
    metadata = second.asset_materializations_for_node("google_health_pull")[0].metadata
    assert metadata["activity_summary_days_new_or_changed"].value == [label(ALICE, worn)]
    assert [r[:2] + r[3:] for r in query(rows)] == [(worn, 11020, 2410, None, None, 650, 210, 30, 40),
                                                    (still, 0, 1650, None, None, 900, 0, 0, 0)]


def test_activity_rollup_conversion_names_request_and_field():
    from fitbit_assets.google_health.activity import activity_summary_document

    civil = {"date": {"year": 2026, "month": 11, "day": 2}, "time": {}}

    def pages(value_field, value):
        return [{"rollupDataPoints": [{"civilStartTime": civil, value_field: value}]}]

    good = {"steps": pages("steps", {"countSum": "10"}), "distance": pages("distance", {"millimetersSum": "7000"}),
            "total-calories": pages("totalCalories", {"kcalSum": 1800.4}),
            "activity-level": pages("activityLevel", {"activityLevelRollupsByActivityLevelType": [
                {"activityLevelType": "VERY_ACTIVE", "totalDuration": "90.5s"}]})}
    assert activity_summary_document(good, DAY)["summary"] == {
        "steps": 10, "distances": [{"activity": "total", "distance": 0.007}], "caloriesOut": 1800,
        "sedentaryMinutes": 0, "lightlyActiveMinutes": 0, "fairlyActiveMinutes": 0, "veryActiveMinutes": 2}
    assert activity_summary_document({**good, "distance": [{"rollupDataPoints": []}]}, DAY) is None  # not synced yet
    bad = {**good, "activity-level": pages("activityLevel", {"activityLevelRollupsByActivityLevelType": [
        {"activityLevelType": "ZOOMING", "totalDuration": "60s"}]})}
    with pytest.raises(ResponseShapeError, match=r"POST /v4/users/me/dataTypes/activity-level/dataPoints:dailyRollUp "
                                                 r"\(day 2026-11-02\): field page 1 rollupDataPoints\[0\]\.activityLevel"
                                                 r"\.activityLevelRollupsByActivityLevelType\[0\]\.activityLevelType"):
        activity_summary_document(bad, DAY)
    with pytest.raises(ResponseShapeError, match=r"dataTypes/steps/.*rollupDataPoints\[0\]\.steps\.countSum: expected a "
                                                 r"non-negative integer, got -3"):
        activity_summary_document({**good, "steps": pages("steps", {"countSum": -3})}, DAY)
