import datetime as dt
import hashlib

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.synthetic import generate_heart_rate_day, heart_rate_csv_bytes

P = Participant("p1", 42, "America/New_York", dt.date(2025, 1, 1), "synthetic")


def day_bytes(participant, date):
    return heart_rate_csv_bytes(generate_heart_rate_day(participant, date))


def test_same_seed_gives_byte_identical_files():
    dates = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(5)]
    first = [hashlib.sha256(day_bytes(P, d)).hexdigest() for d in dates]
    # Generating out of order must not change a day: each day has its own seeded stream.
    second = [hashlib.sha256(day_bytes(P, d)).hexdigest() for d in reversed(dates)][::-1]
    assert first == second
    other_seed = Participant("p1", 43, P.timezone, P.enrolled_on, "synthetic")
    assert day_bytes(other_seed, dates[0]) != day_bytes(P, dates[0])


def test_file_shape_is_the_flattened_intraday_dataset():
    text = day_bytes(P, dt.date(2025, 6, 2)).decode()
    lines = text.splitlines()
    assert lines[0] == "time,value"
    assert text.endswith("\n") and "\r" not in text
    time, value = lines[1].split(",")
    assert len(time) == 8 and time[2] == ":" and value.isdigit()


def sample_frame(participant, date):
    frame = generate_heart_rate_day(participant, date)
    seconds = pd.to_timedelta(frame["time"]).dt.total_seconds().to_numpy()
    return frame, seconds


def test_realistic_rhythm_sampling_and_non_wear():
    days = [dt.date(2025, 5, 1) + dt.timedelta(days=i) for i in range(30)]
    frames = [sample_frame(P, d) for d in days]
    worn_days = [(f, s) for f, s in frames if len(f)]
    assert 20 <= len(worn_days) <= 30  # whole missing days happen, at a low rate
    frame, seconds = max(worn_days, key=lambda fs: len(fs[0]))
    gaps = np.diff(seconds)
    gaps = gaps[gaps <= 15]
    # Fitbit "1 s" data: mostly 5 s at rest, 10-15 s common, 1 s in exercise.
    assert 0.25 < np.mean(gaps == 5) < 0.8
    assert np.mean((gaps >= 10) & (gaps <= 15)) > 0.1
    night = frame["value"][(seconds > 2 * 3600) & (seconds < 5 * 3600)]
    afternoon = frame["value"][(seconds > 14 * 3600) & (seconds < 17 * 3600)]
    assert night.median() < afternoon.median() - 5
    # Non-wear: some worn day has a gap of at least 30 minutes during the day (charging or forgetting).
    longest_gaps = [np.diff(s).max() for _, s in worn_days]
    assert max(longest_gaps) >= 30 * 60
    values = pd.concat([f["value"] for f, _ in worn_days])
    assert values.between(25, 250).all()
    assert values.max() > 120  # exercise bouts happen


def test_low_wear_profile_wears_far_less():
    low = Participant("p2", 42, P.timezone, P.enrolled_on, "synthetic", "low_wear")
    days = [dt.date(2025, 5, 1) + dt.timedelta(days=i) for i in range(14)]
    typical_rows = sum(len(generate_heart_rate_day(P, d)) for d in days)
    low_rows = sum(len(generate_heart_rate_day(low, d)) for d in days)
    assert low_rows < 0.7 * typical_rows


def test_dst_days_cover_23_and_25_hours_in_local_order():
    spring, autumn = dt.date(2025, 3, 9), dt.date(2025, 11, 2)
    assert LocalDay(spring, P.timezone).seconds == 23 * 3600
    assert LocalDay(autumn, P.timezone).seconds == 25 * 3600
    participant = Participant("dst", 5, P.timezone, P.enrolled_on, "synthetic")
    spring_frame = generate_heart_rate_day(participant, spring)
    assert not spring_frame["time"].str.startswith("02:").any()  # 02:00-02:59 does not exist that day
    autumn_frame = generate_heart_rate_day(participant, autumn)
    one_am = autumn_frame["time"].str.startswith("01:")
    # The repeated hour is listed twice: wall-clock time steps back once, inside 01:xx.
    steps_back = np.flatnonzero(np.diff(pd.to_timedelta(autumn_frame["time"]).dt.total_seconds()) < 0)
    assert len(steps_back) == 1 and one_am.iloc[steps_back[0] + 1]
