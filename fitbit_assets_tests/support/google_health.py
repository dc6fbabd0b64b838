"""The Google Health tests' participants, days and steps (enrol through the fake, pull days, post a notification);
their fixtures are in ``fitbit_assets_tests/google_health/conftest.py``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import requests

from fitbit_assets.defs.datasets.factory import (
    DATASET_ASSETS,
    heart_rate_rows,
    raw_heart_rate_csv,
    validated_heart_rate,
)
from fitbit_assets.defs.google_health.assets import google_health_pull, oauth_client, token_store
from fitbit_assets.domain.roster import Participant, read_roster
from fitbit_assets.google_health.client import HealthApiClient, UserQuota
from fitbit_assets.google_health.enrol import connect
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags

DAY = dt.date(2026, 11, 2)
ALICE = Participant("gh-alice", 0, "Europe/Berlin", dt.date(2026, 11, 1), "google_health")
BOB = Participant("gh-bob", 0, "America/New_York", dt.date(2026, 11, 1), "google_health")
SYN = Participant("syn-01", 11, "America/New_York", dt.date(2026, 11, 1), "synthetic")
PULL_AND_LOAD = [google_health_pull, raw_heart_rate_csv, validated_heart_rate, heart_rate_rows,
                 *DATASET_ASSETS["breathing_rate"]]
SPO2_AND_AZM = [google_health_pull, *DATASET_ASSETS["spo2"], *DATASET_ASSETS["active_zone_minutes"]]


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


def local_time(participant, day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=participant.zone).astimezone(dt.timezone.utc)


def pull_days(gh_instance, study_files, warehouse, first, last, assets=(google_health_pull,)):
    import dagster as dg

    participants = sorted({first.participant_id, last.participant_id})
    result = dg.materialize(list(assets), instance=gh_instance,
                            resources={"study_files": study_files, "warehouse": warehouse}, raise_on_error=False,
                            tags=range_tags(participants, first.local_date, last.local_date))
    assert result.success
    return result, {k: v.value for k, v in result.asset_materializations_for_node("google_health_pull")[0]
                    .metadata.items()}


def post(webhook, delivery):
    body, headers = delivery
    return webhook.post("/google-health/notifications", content=body, headers=headers)


SUBSCRIBER = "projects/study-project/subscribers/study-push"


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
