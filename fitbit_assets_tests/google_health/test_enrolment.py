"""The Google Health API connector against a loopback fake of the API (no live credentials): consent, tokens and the
participant's account states."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from fitbit_assets.defs.alerts.collect import consent_alerts
from fitbit_assets.defs.google_health.assets import oauth_client, token_store
from fitbit_assets.devtools.google_health_fake import FakeGoogleHealth
from fitbit_assets.domain.roster import read_roster
from fitbit_assets.google_health import SCOPES
from fitbit_assets.google_health.enrol import EnrolmentError, connect
from fitbit_assets.google_health.oauth import ConsentLostError
from fitbit_assets_tests.support.google_health import (
    ALICE,
    BOB,
    FILTER,
    SYN,
    day_start_utc,
    enrol,
    fake_client,
    key,
    label,
    pull_days,
)


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
