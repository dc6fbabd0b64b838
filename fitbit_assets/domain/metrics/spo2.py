"""SpO2: 5-minute values during the main sleep, attached to the wake-up date.

Source shape: ``GET /1/user/-/spo2/date/{date}/all.json`` -> ``{"dateTime", "minutes": [{"value", "minute"}]}``
for one date (an interval request returns a list of those; both are accepted). ``minute`` is local time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.family import (
    MetricFamily,
    MetricFileError,
    field,
    intraday_frame,
    number,
    sleep_window,
)
from fitbit_assets.domain.metrics.physiology import local_iso, synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

COLUMNS = ("participant_id", "ts", "local_date", "spo2")


def sleep_windows(night: pd.DataFrame) -> pd.DataFrame:
    """5-minute windows of the night that hold heart-rate samples: start, mean bpm, samples, worn minutes."""
    grouped = night.groupby(night["minute_utc"].dt.floor("5min"))
    return pd.DataFrame(
        {"mean_bpm": grouped["mean_bpm"].mean(), "samples": grouped["samples"].sum(), "minutes": grouped.size()}
    ).rename_axis("window_utc").reset_index()


def generate(participant: Participant, local_date: dt.date) -> dict:
    day = synthetic_day(participant, local_date)
    minutes = []
    if day.night is not None:
        windows = sleep_windows(day.night)
        rng = day.rng(2)
        drift = np.cumsum(rng.normal(0, 0.15, len(windows)))
        values = np.clip(day.constants.spo2_pct + drift + rng.normal(0, 0.6, len(windows)), 88, 100).round(1)
        stamps = windows["window_utc"] + pd.to_timedelta(rng.integers(0, 60, len(windows)), unit="s")
        minutes = [{"value": float(v), "minute": m} for v, m in zip(values, local_iso(stamps, participant.timezone))]
    return {"dateTime": local_date.isoformat(), "minutes": minutes}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    documents = document if isinstance(document, list) else [document]
    values, stamps, dates = [], [], []
    for index, entry in enumerate(documents):
        where = f"entry {index}" if isinstance(document, list) else "document"
        if not isinstance(entry, dict):
            raise MetricFileError(f'{where} must be an object with "dateTime" and "minutes", got {type(entry).__name__}')
        date = field(entry, "dateTime", where, str)
        for m, minute in enumerate(field(entry, "minutes", where, list)):
            if not isinstance(minute, dict) or "minute" not in minute or "value" not in minute:
                raise MetricFileError(f'{where}.minutes[{m}] must be an object with "minute" and "value"')
            values.append(number(minute["value"]))
            stamps.append(minute["minute"])
            dates.append(date)
    return intraday_frame(participant_id, stamps, dates, day, {"spo2": pd.Series(values, dtype="float64")})


class Spo2Frame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    ts: Series[pd.DatetimeTZDtype] = pa.Field(unique=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    local_date: Series[pd.Timestamp]
    spo2: Series[float] = pa.Field(ge=50, le=100)

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="spo2",
    table="spo2",
    columns=COLUMNS,
    integer_columns=(),
    model=Spo2Frame,
    generate=generate,
    parse=parse,
    window=sleep_window,
    title="SpO2 (5-min, main sleep, wake-up date)",
    source="GET /1/user/-/spo2/date/{date}/all.json",
)
