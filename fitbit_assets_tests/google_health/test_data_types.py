"""The Google Health API connector against a loopback fake of the API (no live credentials), through the real Dagster
assets and the real embedded PostgreSQL: each data type into its metric family, device status."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from fitbit_assets.defs.datasets.factory import (
    DATASET_ASSETS,
)
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.google_health.client import ResponseShapeError
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets_tests.support.google_health import (
    ALICE,
    BOB,
    DAY,
    SPO2_AND_AZM,
    day_start_utc,
    enrol,
    key,
    label,
    local_time,
    pull_days,
)
from fitbit_assets_tests.support.runs import materialize_graph


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
    document = json.loads(Path(study_files.day_file("sleep", ParticipantDayKey(DAY, ALICE.participant_id)))
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
    document = json.loads(Path(study_files.day_file("sleep", ParticipantDayKey(DAY, ALICE.participant_id)))
                          .read_text())
    by_id = {s["logId"]: s for s in document["sleep"]}
    assert by_id[101]["isMainSleep"] and not by_id[102]["isMainSleep"] and by_id[101]["duration"] < by_id[102]["duration"]
    assert by_id[102]["type"] == "classic"
    assert [run["level"] for run in by_id[102]["levels"]["data"]] == ["asleep", "restless", "awake"]
    assert query("SELECT count(*), sum(cardio) FROM active_zone_minutes") == [(10, 20)]
    assert query("SELECT sleep_records, main_sleep_start FROM sleep_daily") == [(2, night_start)]
