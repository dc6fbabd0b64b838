"""The sleep family without Dagster: hand-built sleep-log documents with known totals (Fitabase-style classic, a
summary-only day, a DST night), every document rule naming its numbers, and the generator's coherence with the
heart-rate day."""

import copy
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES_BY_NAME, MetricFileError, sleep, validate_frame
from fitbit_assets.domain.metrics.physiology import heart_rate_minutes, synthetic_day
from fitbit_assets.domain.roster import Participant
from fitbit_assets_tests.support.sleep_documents import NIGHT, classic_log, fitabase_document

DAY = LocalDay(NIGHT, "America/New_York")  # EDT, UTC-4


def both(document, day=DAY):
    daily = sleep.parse_daily(document, "p1", day)
    minutes = sleep.parse_minutes(document, "p1", day)
    return daily, minutes, validate_frame(sleep.FAMILY.schema(day), daily), validate_frame(sleep.MINUTES_FAMILY.schema(day), minutes)


def test_fitabase_classic_document_gives_its_known_totals_and_minutes():
    daily, minutes, daily_report, minutes_report = both(fitabase_document())
    assert daily_report.passed and minutes_report.passed, (daily_report.failures, minutes_report.failures)
    row = daily.iloc[0]
    # Main 450 min in bed (430 asleep), nap 45 (40 asleep): totals 470 / 495 over 2 records.
    assert (row["minutes_asleep"], row["time_in_bed"], row["sleep_records"], row["minutes_awake"]) == (470, 495, 2, 25)
    assert (row["main_minutes_asleep"], row["main_efficiency"]) == (430, 96)
    assert row["main_sleep_start"] == pd.Timestamp("2016-04-12T02:40Z") and row["main_sleep_end"] == pd.Timestamp("2016-04-12T10:10Z")
    assert len(minutes) == 495 and minutes["ts"].is_unique
    assert minutes["level"].value_counts().to_dict() == {"asleep": 470, "awake": 13, "restless": 12}
    assert minutes.groupby("log_id").size().to_dict() == {11380564589: 450, 11380564590: 45}
    assert minutes["ts"].min() == pd.Timestamp("2016-04-12T02:40Z") and minutes["ts"].max() == pd.Timestamp("2016-04-12T18:44Z")
    assert (minutes["local_date"] == pd.Timestamp(NIGHT)).all()


def test_summary_only_day_loads_its_totals_and_no_minutes():
    document = {"sleep": [], "summary": {"totalMinutesAsleep": 384, "totalSleepRecords": 1, "totalTimeInBed": 411}}
    daily, minutes, daily_report, minutes_report = both(document)
    assert daily_report.passed and minutes_report.passed
    row = daily.iloc[0]
    assert (row["minutes_asleep"], row["time_in_bed"], row["sleep_records"]) == (384, 411, 1)
    assert daily[["minutes_awake", "main_sleep_start", "main_sleep_end", "main_minutes_asleep"]].isna().all(axis=None)
    assert minutes.empty and list(minutes.columns) == list(sleep.MINUTE_COLUMNS)


def test_fall_back_night_counts_the_repeated_hour():
    """23:30 -> 06:30 wall clock across the end of DST is 8 hours: duration and minutes follow real time."""
    day = LocalDay(dt.date(2016, 11, 6), "America/New_York")
    log = classic_log(1, "2016-11-05T23:30:00", [("asleep", 480)], True, 100)
    log.update(dateOfSleep="2016-11-06", endTime="2016-11-06T06:30:00.000")
    document = {"sleep": [log], "summary": {"totalMinutesAsleep": 480, "totalSleepRecords": 1, "totalTimeInBed": 480}}
    daily, minutes, daily_report, minutes_report = both(document, day)
    assert daily_report.passed and minutes_report.passed
    assert len(minutes) == 480 and minutes["ts"].is_unique and minutes["ts"].diff().dropna().eq(pd.Timedelta(minutes=1)).all()
    naive = copy.deepcopy(document)
    naive["sleep"][0].update(duration=420 * 60_000, timeInBed=420, minutesAsleep=420)
    with pytest.raises(MetricFileError, match=r"duration 25200000 ms is not endTime - startTime \(28800000 ms\)"):
        sleep.parse_daily(naive, "p1", day)


def test_a_log_across_the_repeated_hour_is_placed_by_its_duration():
    """01:40 (first pass, EDT) -> 01:10 (second pass, EST) is 30 minutes: the wall clock steps back inside the log."""
    day = LocalDay(dt.date(2016, 11, 6), "America/New_York")
    log = {"logId": 7, "dateOfSleep": "2016-11-06", "startTime": "2016-11-06T01:40:00.000", "endTime": "2016-11-06T01:10:00.000",
           "duration": 30 * 60_000, "minutesAsleep": 20, "minutesAwake": 10, "timeInBed": 30, "isMainSleep": False,
           "type": "classic", "levels": {"data": [{"dateTime": "2016-11-06T01:40:00.000", "level": "asleep", "seconds": 1200},
                                                  {"dateTime": "2016-11-06T01:00:00.000", "level": "restless", "seconds": 600}]}}
    document = {"sleep": [log], "summary": {"totalMinutesAsleep": 20, "totalSleepRecords": 1, "totalTimeInBed": 30}}
    daily, minutes, daily_report, minutes_report = both(document, day)
    assert daily_report.passed and minutes_report.passed
    assert minutes["ts"].iloc[[0, 20, -1]].tolist() == [pd.Timestamp(t) for t in ("2016-11-06T05:40Z", "2016-11-06T06:00Z", "2016-11-06T06:09Z")]
    assert minutes["level"].iloc[20] == "restless"
    # A duration that fits neither reading of the wall clock is refused with both.
    log["duration"] = 45 * 60_000
    with pytest.raises(MetricFileError, match=r"duration 2700000 ms is not endTime - startTime \(1800000 ms\)"):
        sleep.parse_minutes(document, "p1", day)


def broken(mutate):
    document = fitabase_document()
    mutate(document)
    return document


def _set(path, value):
    def mutate(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


@pytest.mark.parametrize(
    "mutate, message",
    [
        (_set(("summary", "totalMinutesAsleep"), 460), "summary totals are not the sums over the 2 sleep log(s): totalMinutesAsleep 460 != 470"),
        (_set(("summary", "totalSleepRecords"), 1), "totalSleepRecords 1 != 2"),
        (_set(("sleep", 0, "levels", "data", 1, "seconds"), 90 + 199 * 60), '"sleep"[0].levels.data[1]: seconds 12030 is not a multiple of 60'),
        (_set(("sleep", 0, "levels", "data", 6, "seconds"), 60), '"sleep"[0]: levels.data add up to 449 min, the log\'s duration is 450 min'),
        (_set(("sleep", 0, "levels", "data", 2, "dateTime"), "2016-04-12T02:06:00.000"),
         '"sleep"[0].levels.data[2] starts at 2016-04-12T02:06:00.000, expected the previous run\'s end (2016-04-12T02:05:00)'),
        (_set(("sleep", 1, "levels", "data", 0, "level"), "light"), "level 'light' is not one of classic levels"),
        (_set(("sleep", 1, "dateOfSleep"), "2016-04-13"), '"sleep"[1]: dateOfSleep 2016-04-13 is not the partition\'s date 2016-04-12'),
        (_set(("sleep", 1, "endTime"), "2016-04-12T13:00:00.000"), "startTime 2016-04-12T14:00:00.000 is not before endTime 2016-04-12T13:00:00.000"),
        (_set(("sleep", 1, "startTime"), "12/04/2016 14:00"), "unparseable local time '12/04/2016 14:00'"),
        (_set(("sleep", 1, "timeInBed"), 44), '"sleep"[1]: timeInBed 44 min is not the duration (45 min)'),
        (_set(("sleep", 1, "minutesAwake"), 6), "minutesAsleep 40 + minutesAwake 6 exceed timeInBed 45"),
        (_set(("sleep", 1, "minutesAsleep"), "40"), '"sleep"[1]."minutesAsleep" must be int or float, got str'),
        (_set(("sleep", 1, "minutesAwake"), float("nan")), '"sleep"[1]."minutesAwake" must be a whole number >= 0, got nan'),
        (_set(("sleep", 1, "isMainSleep"), True), "2 sleep logs have isMainSleep true, at most one may"),
        (_set(("sleep", 1, "logId"), 11380564589), "logId repeated: [11380564589]"),
        (_set(("sleep", 1, "type"), "naps"), "type 'naps' is neither"),
        (lambda d: d.pop("summary"), 'document lacks "summary"'),
    ],
)
def test_a_document_that_contradicts_itself_fails_in_both_tables_naming_the_numbers(mutate, message):
    document = broken(mutate)
    for parse in (sleep.parse_daily, sleep.parse_minutes):
        with pytest.raises(MetricFileError) as error:
            parse(document, "p1", DAY)
        assert message in str(error.value)


def test_spring_forward_gap_time_is_refused():
    day = LocalDay(dt.date(2016, 3, 13), "America/New_York")
    log = classic_log(1, "2016-03-13T02:30:00", [("asleep", 60)], True, 100)
    log["dateOfSleep"] = "2016-03-13"
    document = {"sleep": [log], "summary": {"totalMinutesAsleep": 60, "totalSleepRecords": 1, "totalTimeInBed": 60}}
    with pytest.raises(MetricFileError, match="'2016-03-13T02:30:00.000' does not exist in America/New_York"):
        sleep.parse_daily(document, "p1", day)


@pytest.mark.parametrize(
    "summary, rule",
    [
        ({"totalMinutesAsleep": 420, "totalSleepRecords": 1, "totalTimeInBed": 400}, "frame.asleep_within_time_in_bed"),
        ({"totalMinutesAsleep": 1500, "totalSleepRecords": 2, "totalTimeInBed": 1500}, "minutes_asleep.less_than_or_equal_to(1440)"),
        ({"totalMinutesAsleep": 384.5, "totalSleepRecords": 1, "totalTimeInBed": 411}, "minutes_asleep.is_integer"),
        ({"totalMinutesAsleep": 300, "totalSleepRecords": 0, "totalTimeInBed": 320}, "frame.no_minutes_without_records"),
        ({"totalMinutesAsleep": "384", "totalSleepRecords": 1, "totalTimeInBed": 411}, "minutes_asleep.not_nullable"),
        ({"totalMinutesAsleep": -3, "totalSleepRecords": 1, "totalTimeInBed": 411}, "minutes_asleep.greater_than_or_equal_to(0)"),
    ],
)
def test_nightly_model_rejects_impossible_totals(summary, rule):
    report = validate_frame(sleep.FAMILY.schema(DAY), sleep.parse_daily({"sleep": [], "summary": summary}, "p1", DAY))
    assert not report.passed and rule in report.failures, report.failures


@pytest.mark.parametrize(
    "mutate, rule",
    [
        (lambda f: f.assign(level=np.where(f.index == 3, "dozing", f["level"])), "level.isin"),
        (lambda f: pd.concat([f, f.iloc[[7]]], ignore_index=True), "ts.field_uniqueness"),
        (lambda f: f.assign(ts=f["ts"] + pd.Timedelta(seconds=30)), "ts.on_the_minute"),
        (lambda f: f.assign(ts=f["ts"] - pd.Timedelta(days=1)), "ts.inside_window"),
        (lambda f: f.assign(level=np.where(f.index == 0, "rem", f["level"])), "frame.one_vocabulary_per_log"),
        (lambda f: f.assign(local_date=pd.Timestamp("2016-04-11")), "local_date.is_partition_date(2016-04-12)"),
    ],
)
def test_minute_model_rejects_its_defects(mutate, rule):
    frame = mutate(sleep.parse_minutes(fitabase_document(), "p1", DAY).copy())
    report = validate_frame(sleep.MINUTES_FAMILY.schema(DAY), frame)
    assert not report.passed
    assert any(name.startswith(rule) for name in report.failures), report.failures


# --- the generator and the heart-rate day ----------------------------------------------------------------------

P = Participant("syn-01", 11, "America/New_York", dt.date(2025, 1, 1), "synthetic")
SAME_SEED_LOW_WEAR = Participant("low-01", 11, "America/New_York", dt.date(2025, 1, 1), "synthetic", "low_wear")
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(60)]


def generated(participant, date):
    day = LocalDay(date, participant.timezone)
    document = sleep.generate(participant, date)
    return sleep.parse_daily(document, participant.participant_id, day), sleep.parse_minutes(document, participant.participant_id, day)


def test_generated_sleep_lies_in_the_heart_rate_days_low_bpm_window_and_only_where_worn():
    nights = 0
    for date in DATES[:20] + [dt.date(2025, 11, 2), dt.date(2025, 3, 9)]:
        sd = synthetic_day(P, date)
        daily, minutes = generated(P, date)
        if sd.night is None:  # the device saw less than half of the window: no main sleep, zero totals
            assert minutes.empty and daily[["minutes_asleep", "time_in_bed", "sleep_records"]].sum(axis=1).item() == 0
            continue
        nights += 1
        assert (minutes["ts"] >= sd.sleep_start_utc).all() and (minutes["ts"] < sd.sleep_end_utc).all()
        asleep = minutes[minutes["level"] != "wake"]
        assert set(asleep["ts"]) <= set(sd.night["minute_utc"])  # no sleep measured while the device was off
        assert daily["minutes_asleep"].item() == len(asleep) and daily["time_in_bed"].item() == len(minutes)
        # The heart-rate generator lowers bpm in exactly these minutes: asleep minutes sit below the day's awake ones.
        hr = pd.concat([heart_rate_minutes(P, date - dt.timedelta(days=1)), heart_rate_minutes(P, date)]).set_index("minute_utc")
        assert hr.loc[asleep["ts"], "asleep"].all()
        awake_day = sd.minutes[~sd.minutes["asleep"]]["mean_bpm"]
        assert hr.loc[asleep["ts"], "mean_bpm"].mean() < awake_day.mean() - 10
        assert set(minutes["level"]) <= set(sleep.LEVELS["stages"])
    assert nights >= 15


def test_low_wear_participant_sleeps_less_as_measured():
    totals = {}
    for participant in (P, SAME_SEED_LOW_WEAR):  # same seed: the same sleep and wake times, less wear
        frames = [generated(participant, date)[0] for date in DATES]
        totals[participant.wear_profile] = pd.concat(frames)["minutes_asleep"]
    assert totals["low_wear"].mean() < totals["typical"].mean() - 30
    assert (totals["low_wear"] == 0).sum() > (totals["typical"] == 0).sum()


def test_minutes_family_reads_the_sleep_landing_files():
    assert FAMILIES_BY_NAME["sleep_minutes"].landing_name == "sleep" == FAMILIES_BY_NAME["sleep"].landing_name
