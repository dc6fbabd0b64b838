"""Metric families without Dagster: generator coherence with heart rate, determinism, every Pandera rule,
malformed files (a clear message naming the file, nothing parsed)."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import (
    FAMILIES,
    FAMILIES_BY_NAME,
    MetricFileError,
    active_zone_minutes,
    breathing_rate,
    heart_rate_summary,
    hrv,
    read_metric_file,
    spo2,
    validate_frame,
    validate_frames,
)
from fitbit_assets.domain.metrics.files import document_bytes
from fitbit_assets.domain.metrics.physiology import heart_rate_minutes, lowest_rolling_mean, synthetic_day, zone_of
from fitbit_assets.domain.roster import Participant

P = Participant("syn-01", 11, "America/New_York", dt.date(2025, 1, 1), "synthetic")
LOW = Participant("low-01", 303, "America/Los_Angeles", dt.date(2025, 1, 1), "synthetic", "low_wear")
DAY = dt.date(2025, 6, 10)
DAYS = [DAY + dt.timedelta(days=i) for i in range(6)] + [dt.date(2025, 11, 2), dt.date(2025, 3, 9)]  # + DST days


def parsed(family, participant, date):
    day = LocalDay(date, participant.timezone)
    document = json.loads(document_bytes(family.generate(participant, date)))
    return family.parse(document, participant.participant_id, day), day


@pytest.mark.parametrize("participant", [P, LOW], ids=lambda p: p.participant_id)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_generated_days_pass_their_model_and_are_deterministic(family, participant):
    for date in DAYS:
        frame, day = parsed(family, participant, date)
        report = validate_frame(family.schema(day), frame)
        assert report.passed, (date, report.summary(), report.samples[:3])
    first = document_bytes(family.generate(participant, DAY))
    synthetic_day.cache_clear(), heart_rate_minutes.cache_clear()  # regenerated from scratch: same bytes
    assert document_bytes(family.generate(participant, DAY)) == first


def worn_windows(participant, date):
    """UTC 5-minute windows (and minutes) that hold heart-rate samples on the day and the day before."""
    minutes = pd.concat([heart_rate_minutes(participant, date - dt.timedelta(days=1)), heart_rate_minutes(participant, date)])
    return set(minutes["minute_utc"].dt.floor("5min")), minutes.set_index("minute_utc")["mean_bpm"]


@pytest.mark.parametrize("participant", [P, LOW], ids=lambda p: p.participant_id)
def test_spo2_and_hrv_only_in_worn_windows_of_the_main_sleep(participant):
    nights = 0
    for date in DAYS:
        windows, _ = worn_windows(participant, date)
        sd = synthetic_day(participant, date)
        for family in (spo2.FAMILY, hrv.FAMILY):
            frame, _ = parsed(family, participant, date)
            if sd.night is None:
                assert frame.empty
                continue
            assert set(frame["ts"].dt.floor("5min")) <= windows  # no SpO2/HRV while the device is off
            assert (frame["ts"] >= sd.sleep_start_utc.floor("5min")).all() and (frame["ts"] < sd.sleep_end_utc).all()
        nights += sd.night is not None
    assert nights >= 4


def test_no_heart_rate_means_no_spo2_hrv_breathing_or_azm_and_zero_steps():
    missing = [d for d in (DAY + dt.timedelta(days=i) for i in range(60)) if heart_rate_minutes(LOW, d).empty]
    assert missing, "low_wear should have whole days without data"
    date = missing[0]
    frames = {f.name: parsed(f, LOW, date)[0] for f in FAMILIES}
    assert frames["active_zone_minutes"].empty
    assert frames["activity_summary"]["steps"].item() == 0
    assert frames["activity_summary"]["sedentary_minutes"].item() == 1440  # non-wear counted as sedentary
    assert frames["heart_rate_summary"][[f"{z}_minutes" for z in ("out_of_range", "fat_burn", "cardio", "peak")]].sum(axis=1).item() == 0
    next_day = date + dt.timedelta(days=1)
    if synthetic_day(LOW, next_day).night is None:
        assert parsed(spo2.FAMILY, LOW, next_day)[0].empty


def test_azm_only_at_elevated_heart_rate_with_fitbit_credits():
    total = 0
    for date in DAYS:
        frame, _ = parsed(active_zone_minutes.FAMILY, P, date)
        _, bpm = worn_windows(P, date)
        bounds = synthetic_day(P, date).constants.zone_bounds()
        zones = zone_of(bpm.reindex(frame["ts"]).reset_index(drop=True), bounds)
        assert (zones != "out_of_range").all() and not bpm.reindex(frame["ts"]).isna().any()
        credit = np.where(zones == "fat_burn", 1, 2)
        assert (frame["active_zone_minutes"].to_numpy() == credit).all()
        total += len(frame)
    assert total > 100


def test_resting_heart_rate_is_close_to_the_nights_minimum():
    checked = 0
    for participant in (P, LOW):
        for date in DAYS:
            sd = synthetic_day(participant, date)
            frame, _ = parsed(heart_rate_summary.FAMILY, participant, date)
            resting = frame["resting_heart_rate"].item()
            if sd.night is None:
                assert np.isnan(resting)
                continue
            assert sd.night["mean_bpm"].min() <= resting <= lowest_rolling_mean(sd.night) + 0.5
            checked += 1
    assert checked >= 8


def test_zone_minutes_match_the_worn_minutes_and_steps_only_when_awake_and_worn():
    for date in DAYS:
        sd = synthetic_day(P, date)
        frame, _ = parsed(heart_rate_summary.FAMILY, P, date)
        assert frame[[f"{z}_minutes" for z in ("out_of_range", "fat_burn", "cardio", "peak")]].sum(axis=1).item() == len(sd.minutes)
        activity = FAMILIES_BY_NAME["activity_summary"]
        summary, _ = parsed(activity, P, date)
        awake_worn = int((~sd.minutes["asleep"]).sum())
        assert summary["lightly_active_minutes"].item() + summary["fairly_active_minutes"].item() + summary["very_active_minutes"].item() <= awake_worn
        assert (0 < summary["steps"].item() < 40_000) if awake_worn else summary["steps"].item() == 0


def test_breathing_rate_non_positive_is_missing():
    document = {"br": [{"dateTime": DAY.isoformat(), "value": {
        "deepSleepSummary": {"breathingRate": 16.8}, "remSleepSummary": {"breathingRate": -1},
        "fullSleepSummary": {"breathingRate": 17.8}, "lightSleepSummary": {"breathingRate": 0}}}]}
    day = LocalDay(DAY, P.timezone)
    frame = breathing_rate.parse(document, "p1", day)
    assert frame.iloc[0][["full_sleep_breathing_rate", "deep_sleep_breathing_rate"]].tolist() == [17.8, 16.8]
    assert frame[["rem_sleep_breathing_rate", "light_sleep_breathing_rate"]].isna().all(axis=None)
    assert validate_frame(breathing_rate.FAMILY.schema(day), frame).passed


def test_azm_minute_as_clock_time_and_omitted_zone_keys_are_parsed():
    document = {"activities-active-zone-minutes-intraday": [{"dateTime": DAY.isoformat(), "minutes": [
        {"minute": "08:05:00", "value": {"activeZoneMinutes": 2, "cardioActiveZoneMinutes": 2}},
        {"minute": f"{DAY}T08:06:00", "value": {"activeZoneMinutes": 1, "fatBurnActiveZoneMinutes": 1}}]}]}
    day = LocalDay(DAY, P.timezone)
    frame = active_zone_minutes.parse(document, "p1", day)
    assert frame["ts"].tolist() == [pd.Timestamp("2025-06-10T12:05Z"), pd.Timestamp("2025-06-10T12:06Z")]
    assert frame[["fat_burn", "cardio", "peak"]].values.tolist() == [[0, 2, 0], [1, 0, 0]]
    assert validate_frame(active_zone_minutes.FAMILY.schema(day), frame).passed


def corrupt(family_name, mutate):
    family = FAMILIES_BY_NAME[family_name]
    frame, day = parsed(family, P, DAY)
    frame = mutate(frame.copy())
    return validate_frame(family.schema(day), frame)


WRONG_DATE = pd.Timestamp(DAY - dt.timedelta(days=3))


DEFECTS = [
        ("heart_rate_summary", lambda f: f.assign(resting_heart_rate=300.0), "resting_heart_rate.less_than_or_equal_to(250)"),
        ("heart_rate_summary", lambda f: f.assign(fat_burn_minutes=-1.0), "fat_burn_minutes.greater_than_or_equal_to(0)"),
        ("heart_rate_summary", lambda f: f.assign(cardio_minutes=2.5), "cardio_minutes.is_integer"),
        ("heart_rate_summary", lambda f: f.assign(out_of_range_minutes=1400.0, fat_burn_minutes=200.0), "frame.zone_minutes_fit_in_a_day"),
        ("heart_rate_summary", lambda f: pd.concat([f, f], ignore_index=True), "local_date.field_uniqueness"),
        ("heart_rate_summary", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("spo2", lambda f: f.assign(spo2=np.where(f.index == 3, 101.0, f["spo2"])), "spo2.less_than_or_equal_to(100)"),
        ("spo2", lambda f: f.assign(spo2=np.where(f.index == 3, np.nan, f["spo2"])), "spo2.not_nullable"),
        ("spo2", lambda f: pd.concat([f, f.iloc[[5]]], ignore_index=True), "ts.field_uniqueness"),
        ("spo2", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("spo2", lambda f: f.assign(ts=f["ts"] - pd.Timedelta(days=2)), "ts.inside_window"),
        ("hrv", lambda f: f.assign(coverage=np.where(f.index == 0, 1.2, f["coverage"])), "coverage.less_than_or_equal_to(1)"),
        ("hrv", lambda f: f.assign(rmssd=np.where(f.index == 0, 0.0, f["rmssd"])), "rmssd.greater_than(0)"),
        ("hrv", lambda f: f.assign(lf=-1.0), "lf.greater_than_or_equal_to(0)"),
        ("hrv", lambda f: pd.concat([f, f.iloc[[1]]], ignore_index=True), "ts.field_uniqueness"),
        ("hrv", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("breathing_rate", lambda f: f.assign(full_sleep_breathing_rate=75.0), "full_sleep_breathing_rate.less_than_or_equal_to(60)"),
        ("breathing_rate", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("breathing_rate", lambda f: pd.concat([f, f], ignore_index=True), "local_date.field_uniqueness"),
        ("active_zone_minutes", lambda f: f.assign(cardio=np.where(f.index == 0, 1.0, f["cardio"])), "cardio.isin([0, 2])"),
        ("active_zone_minutes", lambda f: f.assign(active_zone_minutes=np.where(f.index == 0, 3.0, f["active_zone_minutes"])), "active_zone_minutes.isin([1, 2])"),
        ("active_zone_minutes", lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True), "ts.field_uniqueness"),
        ("active_zone_minutes", lambda f: f.assign(ts=f["ts"] + pd.Timedelta(seconds=30)), "ts.whole_minute"),
        ("active_zone_minutes", lambda f: f.assign(ts=f["ts"] + pd.Timedelta(days=1)), "ts.inside_window"),
        ("active_zone_minutes", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("active_zone_minutes", lambda f: f.assign(fat_burn=1.0, cardio=2.0, active_zone_minutes=2.0), "frame.one_zone_per_minute_and_total_matches"),
        ("activity_summary", lambda f: f.assign(steps=-5.0), "steps.greater_than_or_equal_to(0)"),
        ("activity_summary", lambda f: f.assign(steps=1000.5), "steps.is_integer"),
        ("activity_summary", lambda f: f.assign(sedentary_minutes=1500.0, very_active_minutes=60.0), "frame.minutes_fit_in_a_day"),
        ("activity_summary", lambda f: f.assign(local_date=WRONG_DATE), f"local_date.is_partition_date({DAY})"),
        ("activity_summary", lambda f: f.assign(calories_out=np.nan), "calories_out.not_nullable"),
]


@pytest.mark.parametrize("family_name, mutate, rule", DEFECTS)
def test_each_model_rejects_its_defect(family_name, mutate, rule):
    report = corrupt(family_name, mutate)
    assert not report.passed
    assert rule in report.failures, report.failures
    assert any(s["rule"] == rule for s in report.samples)



TWIN = Participant("syn-02", P.seed, P.timezone, P.enrolled_on, "synthetic")  # same seed: the same minutes as P


@pytest.mark.parametrize("family_name, mutate, rule", DEFECTS)
def test_days_validated_together_get_the_report_each_gets_alone(family_name, mutate, rule):
    """A run screens its participant-days in one Pandera call: the defective day's report is the one it gets
    alone, and the good days beside it (the next day, another participant with the very same minutes) pass."""
    family = FAMILIES_BY_NAME[family_name]
    defective, day = parsed(family, P, DAY)
    days = [parsed(family, P, DAY + dt.timedelta(days=1)), (mutate(defective.copy()), day), parsed(family, TWIN, DAY)]
    together = validate_frames(family, [(day, frame) for frame, day in days])
    alone = [validate_frame(family.schema(day), frame) for frame, day in days]
    assert together == alone
    assert [report.passed for report in together] == [True, False, True]
    assert rule in together[1].failures



@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_good_days_of_two_participants_with_the_same_minutes_pass_together(family):
    days = [parsed(family, participant, date) for participant in (P, TWIN) for date in DAYS]
    together = validate_frames(family, [(day, frame) for frame, day in days])
    assert all(report.passed for report in together), [report.summary() for report in together if not report.passed]
    assert together == [validate_frame(family.schema(day), frame) for frame, day in days]


MALFORMED = {
    "heart_rate_summary": [
        ("{not json", "not valid JSON"),
        ("", "empty file"),
        ('{"activities-heart-intraday": {}}', 'list under "activities-heart"'),
        ('{"activities-heart": [{"dateTime": "2025-06-10"}]}', 'lacks "value"'),
        ('{"activities-heart": [{"dateTime": "2025-06-10", "value": {"heartRateZones": []}}]}', 'lacks the "Out of Range" zone'),
        ('{"activities-heart": [{"dateTime": "2025-06-10", "value": {"heartRateZones": [], "restingHeartRate": "60"}}]}', "restingHeartRate must be a number"),
    ],
    "spo2": [
        ("[1, 2]", "must be an object"),
        ('{"dateTime": "2025-06-10"}', 'lacks "minutes"'),
        ('{"dateTime": "2025-06-10", "minutes": [{"value": 95}]}', 'must be an object with "minute" and "value"'),
    ],
    "hrv": [
        ('{"hrv": {"minutes": []}}', '"hrv" must be a list'),
        ('{"hrv": [{"dateTime": "2025-06-10", "minutes": [{"minute": "2025-06-10T01:00:00", "value": 30}]}]}', '"value" object'),
    ],
    "breathing_rate": [
        ('{"br": ["x"]}', '"br"[0] must be an object'),
        ('{"br": [{"dateTime": "2025-06-10", "value": {"fullSleepSummary": 17}}]}', "must be an object"),
        ('{"br": [{"dateTime": "2025-06-10", "value": {"fullSleepSummary": {"breathingRate": "fast"}}}]}', "must be a number"),
    ],
    "active_zone_minutes": [
        ('{"activities-active-zone-minutes": []}', 'list under "activities-active-zone-minutes-intraday"'),
        ('{"activities-active-zone-minutes-intraday": [{"dateTime": "2025-06-10", "dataset": []}]}', 'lacks "minutes"'),
    ],
    "activity_summary": [
        ('{"activities": []}', 'lacks "summary"'),
        ('{"summary": {"steps": 10, "distances": []}}', 'exactly one {"activity": "total"} entry'),
        ("null", "expected a JSON object"),
    ],
    "sleep": [
        ('{"sleep": [], "summary": {"totalMinutesAsleep": 4', "not valid JSON"),  # truncated
        ('{"sleep": {}, "summary": {}}', '"sleep" must be a list'),
        ('{"sleep": [{"logId": 1}], "summary": {}}', '"sleep"[0] lacks "dateOfSleep"'),
    ],
    "sleep_minutes": [
        ('{"summary": {}}', 'list under "sleep"'),
        ('{"sleep": [], "totals": {}}', 'document lacks "summary"'),
    ],
}


@pytest.mark.parametrize(
    "family_name, text, message",
    [(name, text, message) for name, cases in MALFORMED.items() for text, message in cases],
)
def test_malformed_files_fail_with_a_message_naming_the_file(tmp_path, family_name, text, message):
    path = tmp_path / family_name / "p1" / f"{DAY}.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(MetricFileError) as error:
        read_metric_file(FAMILIES_BY_NAME[family_name], path, "p1", LocalDay(DAY, P.timezone))
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
