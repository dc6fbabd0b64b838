"""Heart-rate variability: 5-minute rmssd, coverage, hf, lf during the main sleep; daily rmssd in SQL.

Source shape: ``GET /1/user/-/hrv/date/{date}/all.json`` -> ``{"hrv": [{"dateTime", "minutes": [{"minute",
"value": {"rmssd", "coverage", "hf", "lf"}}]}]}``, ``minute`` local. The daily RMSSD (Fitbit's ``dailyRmssd``,
computed over the main sleep) is the view ``hrv_daily`` over these windows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.family import MetricFamily, intraday_frame, intraday_minutes, number, sleep_window
from fitbit_assets.domain.metrics.physiology import local_iso, synthetic_day
from fitbit_assets.domain.metrics.spo2 import sleep_windows
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

KEY = "hrv"
VALUES = ("rmssd", "coverage", "hf", "lf")
COLUMNS = ("participant_id", "ts", "local_date", *VALUES)
MIN_SAMPLES_PER_WINDOW = 20  # fewer heart-rate samples in 5 minutes: not enough beats for a value


def generate(participant: Participant, local_date: dt.date) -> dict:
    day = synthetic_day(participant, local_date)
    minutes = []
    if day.night is not None:
        windows = sleep_windows(day.night)
        windows = windows[windows["samples"] >= MIN_SAMPLES_PER_WINDOW].reset_index(drop=True)
        rng = day.rng(3)
        resting = day.resting_heart_rate() or float(windows["mean_bpm"].min())
        n = len(windows)
        rmssd = day.constants.rmssd_ms * np.exp(-(windows["mean_bpm"] - resting) / 25) * rng.lognormal(0, 0.15, n)
        coverage = np.clip(windows["samples"] / 60 + rng.normal(0, 0.05, n), 0.3, 1.0)
        hf = rmssd**2 * rng.uniform(0.08, 0.2, n)
        lf = hf * rng.lognormal(np.log(2.0), 0.4, n)
        stamps = local_iso(windows["window_utc"], participant.timezone, "%Y-%m-%dT%H:%M:%S.000")
        minutes = [
            {"minute": m, "value": {"rmssd": round(r, 3), "coverage": round(c, 3), "hf": round(h, 3), "lf": round(lo, 3)}}
            for m, r, c, h, lo in zip(stamps, rmssd, coverage, hf, lf)
        ]
    return {KEY: [{"minutes": minutes, "dateTime": local_date.isoformat()}] if minutes else []}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    stamps, dates, values = [], [], {v: [] for v in VALUES}
    for _, date, minute in intraday_minutes(document, KEY):
        stamps.append(minute["minute"])
        dates.append(date)
        for v in VALUES:
            values[v].append(number(minute["value"].get(v)))
    return intraday_frame(participant_id, stamps, dates, day, {v: pd.Series(values[v], dtype="float64") for v in VALUES})


class HrvFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    ts: Series[pd.DatetimeTZDtype] = pa.Field(unique=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    local_date: Series[pd.Timestamp]
    rmssd: Series[float] = pa.Field(gt=0, le=300)  # ms
    coverage: Series[float] = pa.Field(ge=0, le=1)  # fraction of valid inter-beat intervals
    hf: Series[float] = pa.Field(ge=0)  # ms^2, 0.15-0.4 Hz
    lf: Series[float] = pa.Field(ge=0)  # ms^2, 0.04-0.15 Hz

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="hrv",
    table="hrv",
    columns=COLUMNS,
    integer_columns=(),
    model=HrvFrame,
    generate=generate,
    parse=parse,
    window=sleep_window,
    title="HRV (5-min rmssd/coverage/hf/lf, main sleep; daily rmssd)",
    source="GET /1/user/-/hrv/date/{date}/all.json",
)
