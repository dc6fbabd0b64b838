"""The Google Health API connector against a loopback fake of the API (no live credentials), through the real Dagster assets and
the real embedded PostgreSQL: the pull of participant-days, what it skips and holds back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from fitbit_assets.defs.alerts.collect import consent_alerts
from fitbit_assets.defs.alerts.messages import plan_messages
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.google_health.tokens import RECONSENT_NEEDED
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.serving.query import cohort_overview
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets_tests.support.google_health import (
    ALICE,
    BOB,
    DAY,
    PULL_AND_LOAD,
    SYN,
    day_start_utc,
    enrol,
    key,
    label,
    pull_days,
)
from fitbit_assets_tests.support.runs import materialize_graph


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
    csv = Path(study_files.day_file("heart_rate", ParticipantDayKey(DAY, ALICE.participant_id)))
    summary = Path(study_files.day_file("activity_summary", key(ALICE)))

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
