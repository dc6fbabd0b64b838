"""Breathing rate per sleep stage for the main sleep ending on the date (breaths per minute).

Source shape: ``GET /1/user/-/br/date/{date}/all.json`` -> ``{"br": [{"dateTime", "value": {
"deepSleepSummary": {"breathingRate"}, "remSleepSummary": ..., "fullSleepSummary": ..., "lightSleepSummary": ...}}]}``.
A non-positive rate (the API sends -1 when a stage had too little data) is stored as NULL.
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
    daily_frame,
    entries,
    field,
    optional_number,
)
from fitbit_assets.domain.metrics.physiology import synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

KEY = "br"
STAGES = {"full_sleep": "fullSleepSummary", "deep_sleep": "deepSleepSummary", "light_sleep": "lightSleepSummary",
          "rem_sleep": "remSleepSummary"}
RATE_COLUMNS = tuple(f"{stage}_breathing_rate" for stage in STAGES)
COLUMNS = ("participant_id", "local_date", *RATE_COLUMNS)
MISSING_REM_PROBABILITY = 0.15


def generate(participant: Participant, local_date: dt.date) -> dict:
    day = synthetic_day(participant, local_date)
    if day.night is None:
        return {KEY: []}
    rng = day.rng(4)
    full = day.constants.breathing_rate + rng.normal(0, 0.4)
    rates = {
        "fullSleepSummary": full,
        "deepSleepSummary": full - rng.uniform(0.5, 1.5),
        "lightSleepSummary": full + rng.normal(0, 0.3),
        "remSleepSummary": full + rng.uniform(0.5, 1.5) if rng.random() > MISSING_REM_PROBABILITY else -1,
    }
    value = {name: {"breathingRate": round(float(rate), 1)} for name, rate in rates.items()}
    return {KEY: [{"value": value, "dateTime": local_date.isoformat()}]}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    rows = []
    for index, entry in enumerate(entries(document, KEY)):
        where = f'"{KEY}"[{index}]'
        value = field(entry, "value", where)
        row = {"participant_id": participant_id, "date": entry.get("dateTime")}
        if "breathingRate" in value and not any(name in value for name in STAGES.values()):
            value = {"fullSleepSummary": value}  # the summary endpoint /br/date/{date}.json
        for stage, name in STAGES.items():
            summary = value.get(name, {})
            if not isinstance(summary, dict):
                raise MetricFileError(f'{where}.value."{name}" must be an object, got {type(summary).__name__}')
            rate = optional_number(summary.get("breathingRate"), f'{where}.value."{name}".breathingRate')
            row[f"{stage}_breathing_rate"] = rate if not rate <= 0 else np.nan  # non-positive = missing
        rows.append(row)
    return daily_frame(rows, RATE_COLUMNS)


class BreathingRateFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    local_date: Series[pd.Timestamp] = pa.Field(unique=True)
    full_sleep_breathing_rate: Series[float] = pa.Field(nullable=True, gt=0, le=60)
    deep_sleep_breathing_rate: Series[float] = pa.Field(nullable=True, gt=0, le=60)
    light_sleep_breathing_rate: Series[float] = pa.Field(nullable=True, gt=0, le=60)
    rem_sleep_breathing_rate: Series[float] = pa.Field(nullable=True, gt=0, le=60)

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="breathing_rate",
    table="breathing_rate_daily",
    columns=COLUMNS,
    integer_columns=(),
    model=BreathingRateFrame,
    generate=generate,
    parse=parse,
    window=None,
    title="Breathing rate per sleep stage (daily)",
    source="GET /1/user/-/br/date/{date}/all.json",
)
