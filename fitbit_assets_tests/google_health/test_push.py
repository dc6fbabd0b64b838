"""The Google Health API connector against a loopback fake of the API (no live credentials): the webhook receiver of push
notifications, the notification sensor and per-participant subscriptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fitbit_assets import settings
from fitbit_assets.defs.google_health.assets import token_store
from fitbit_assets.devtools.google_health_fake import FakeGoogleHealth
from fitbit_assets.domain.roster import write_roster
from fitbit_assets.google_health.client import ApiError
from fitbit_assets.lib.partitions import range_tags
from fitbit_assets_tests.support.google_health import (
    ALICE,
    BOB,
    DAY,
    SUBSCRIBER,
    SYN,
    day_start_utc,
    enrol,
    local_time,
    post,
    subscribing_enrol,
)


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
