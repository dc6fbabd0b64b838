import datetime as dt

import pandas as pd
import pytest

from fitbit_assets.domain.heart_rate import RawFileError, read_raw_heart_rate, to_utc_frame, validate_heart_rate
from fitbit_assets.domain.local_days import LocalDay

NEW_YORK_DAY = LocalDay(dt.date(2025, 6, 10), "America/New_York")


def frame_from(rows, day=NEW_YORK_DAY):
    raw = pd.DataFrame(rows, columns=["time", "value"], dtype=str)
    return to_utc_frame(raw, "p1", day)


def good_rows():
    return [("00:00:00", "60"), ("00:00:05", "61"), ("12:00:00", "80"), ("23:59:59", "58")]


def test_good_day_passes_and_converts_to_utc():
    frame = frame_from(good_rows())
    report = validate_heart_rate(frame, NEW_YORK_DAY)
    assert report.passed, report.summary()
    assert frame["ts"].iloc[0] == pd.Timestamp("2025-06-10T04:00:00Z")  # EDT = UTC-4
    assert frame["ts"].iloc[-1] == pd.Timestamp("2025-06-11T03:59:59Z")


@pytest.mark.parametrize(
    "defect, rule",
    [
        ([("00:00:10", "24")], "bpm.greater_than_or_equal_to(25)"),
        ([("00:00:10", "251")], "bpm.less_than_or_equal_to(250)"),
        ([("00:00:10", "72.5")], "bpm.bpm_is_integer"),
        ([("00:00:10", "")], "bpm.not_nullable"),
        ([("00:00:10", "abc")], "bpm.not_nullable"),
        ([("00:00:05", "62")], "ts.field_uniqueness"),
        ([("25:61:00", "60")], "ts.not_nullable"),
    ],
)
def test_each_rule_rejects_its_defect(defect, rule):
    rows = good_rows()
    rows[2:2] = defect  # after 00:00:05
    report = validate_heart_rate(frame_from(rows), NEW_YORK_DAY)
    assert not report.passed
    assert rule in report.failures, report.failures
    sample = next(s for s in report.samples if s["rule"] == rule)
    assert sample["csv_line"] >= 2


def test_out_of_order_timestamps_are_rejected_with_their_line():
    rows = [("00:00:00", "60"), ("00:10:00", "61"), ("00:05:00", "62"), ("00:20:00", "63")]
    report = validate_heart_rate(frame_from(rows), NEW_YORK_DAY)
    assert report.failures == {"ts.ts_strictly_increasing": 1}
    assert report.samples[0]["csv_line"] == 4 and report.samples[0]["local_time"] == "2025-06-10 00:05:00"


def test_timestamps_outside_the_local_day_are_rejected():
    frame = frame_from(good_rows())
    other_day = LocalDay(dt.date(2025, 6, 11), "America/New_York")
    report = validate_heart_rate(frame, other_day)
    assert report.failures == {"ts.inside_local_day": 4}


def test_missing_participant_column_breaks_the_strict_schema():
    frame = frame_from(good_rows()).drop(columns=["participant_id"])
    assert not validate_heart_rate(frame, NEW_YORK_DAY).passed


def test_spring_forward_day_is_23_hours_and_the_missing_hour_is_rejected():
    day = LocalDay(dt.date(2025, 3, 9), "America/New_York")
    frame = frame_from([("00:00:00", "60"), ("01:59:59", "61"), ("03:00:00", "62"), ("23:59:59", "63")], day)
    assert validate_heart_rate(frame, day).passed
    assert list(frame["ts"].diff().dt.total_seconds().iloc[1:]) == [7199, 1, 75599]  # 01:59:59 EST -> 03:00 EDT
    assert frame["ts"].iloc[-1] - frame["ts"].iloc[0] == pd.Timedelta(hours=22, minutes=59, seconds=59)
    report = validate_heart_rate(frame_from([("01:00:00", "60"), ("02:30:00", "61")], day), day)
    assert report.failures == {"ts.not_nullable": 1}
    assert report.samples[0]["local_time"] == "2025-03-09 02:30:00"


def test_fall_back_day_keeps_both_passes_of_the_repeated_hour_in_order():
    day = LocalDay(dt.date(2025, 11, 2), "America/New_York")
    rows = [("00:59:55", "60"), ("01:00:00", "61"), ("01:30:00", "62"), ("01:59:55", "63"),
            ("01:00:00", "64"), ("01:30:00", "65"), ("01:59:55", "66"), ("02:00:00", "67")]
    frame = frame_from(rows, day)
    report = validate_heart_rate(frame, day)
    assert report.passed, report.summary()
    expected = ["04:59:55", "05:00:00", "05:30:00", "05:59:55", "06:00:00", "06:30:00", "06:59:55", "07:00:00"]
    assert list(frame["ts"].dt.strftime("%H:%M:%S")) == expected
    assert frame["ts"].is_unique and frame["ts"].is_monotonic_increasing


def test_fall_back_day_with_only_the_second_pass_is_read_as_standard_time():
    day = LocalDay(dt.date(2025, 11, 2), "America/New_York")
    # Device off for the first 01:xx; the file shows 00:50 then the repeated hour once, read as first pass.
    frame = frame_from([("00:50:00", "60"), ("01:10:00", "61"), ("03:00:00", "62")], day)
    assert validate_heart_rate(frame, day).passed
    assert frame["ts"].iloc[1] == pd.Timestamp("2025-11-02T05:10:00Z")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty file"),
        ("timestamp,bpm\n00:00:00,60\n", "header is \\['timestamp', 'bpm'\\]"),
        ('time,value\n"00:00:00,60\n', "not a valid CSV"),
    ],
)
def test_malformed_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "2025-06-10.csv"
    path.write_text(content)
    with pytest.raises(RawFileError, match=rf"{path}: {message}"):
        read_raw_heart_rate(path)
