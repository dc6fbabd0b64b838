"""Fixtures of the Google Health tests: the loopback fake of the API, the settings that point at it, an instance, the
push receiver and the study's subscriber."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fitbit_assets import settings
from fitbit_assets.defs.google_health import assets as google_health_assets
from fitbit_assets.devtools.google_health_fake import FakeGoogleHealth, FakeServer
from fitbit_assets.domain.roster import write_roster
from fitbit_assets_tests.support.google_health import (
    ALICE,
    BOB,
    SUBSCRIBER,
    SYN,
)


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


@pytest.fixture
def webhook(fake, warehouse_dsn):
    from fastapi.testclient import TestClient

    from fitbit_assets.serving.api.google_health_webhook import WebhookConfig, create_webhook_app

    config = WebhookConfig(warehouse_dsn, "Bearer study-webhook-secret", fake.fake.webhook_public_key_pem())
    with TestClient(create_webhook_app(config)) as client:
        yield client


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
