"""The Google Health API connector against a loopback fake of the API (no live credentials): the HTTP client's retries, back-off,
quotas and response checks."""

from __future__ import annotations

import datetime as dt

import pytest

from fitbit_assets import settings
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.google_health.client import ApiError, UserQuota
from fitbit_assets_tests.support.google_health import (
    ALICE,
    FILTER,
    day_start_utc,
    enrol,
    fake_client,
    key,
    pull_days,
)
from fitbit_assets_tests.support.runs import materialize_graph


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
