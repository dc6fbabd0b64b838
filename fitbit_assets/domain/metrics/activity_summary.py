"""Daily activity summary: steps, distance, calories, active and sedentary minutes.

Source shape: ``GET /1/user/-/activities/date/{date}.json`` -> ``{"activities": [...], "goals": {...},
"summary": {"steps", "distances": [{"activity": "total", "distance"}], "caloriesOut", "activityCalories",
"caloriesBMR", "sedentaryMinutes", "lightlyActiveMinutes", "fairlyActiveMinutes", "veryActiveMinutes", ...}}``.
The response carries no date: the partition's date is the file's date. ``sedentaryMinutes`` counts non-wear
time as sedentary (days add up to 1440 minutes): never use it for wear time (wear = minutes with heart rate).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.family import MetricFamily, MetricFileError, field, number
from fitbit_assets.domain.metrics.physiology import synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

API_FIELDS = {
    "steps": "steps",
    "calories_out": "caloriesOut",
    "activity_calories": "activityCalories",
    "calories_bmr": "caloriesBMR",
    "sedentary_minutes": "sedentaryMinutes",
    "lightly_active_minutes": "lightlyActiveMinutes",
    "fairly_active_minutes": "fairlyActiveMinutes",
    "very_active_minutes": "veryActiveMinutes",
}
MINUTE_COLUMNS = ("sedentary_minutes", "lightly_active_minutes", "fairly_active_minutes", "very_active_minutes")
COLUMNS = ("participant_id", "local_date", "steps", "distance_km", *tuple(API_FIELDS)[1:])
INTEGER_COLUMNS = ("steps", "calories_out", "activity_calories", "calories_bmr", *MINUTE_COLUMNS)


def generate(participant: Participant, local_date: dt.date) -> dict:
    """Steps only in awake worn minutes, rising with heart rate above resting; calories = BMR + activity."""
    day = synthetic_day(participant, local_date)
    constants = day.constants
    awake = day.zoned_minutes()
    awake = awake[~awake["asleep"]]
    rng = day.rng(6)
    mets = day.mets(awake["mean_bpm"])
    steps = rng.poisson(np.clip((mets.to_numpy() - 1.15) * 60, 0, 170))
    zone_active = awake["zone"].isin(["cardio", "peak"]).to_numpy()
    very = (steps >= 110) | zone_active
    fairly = ~very & (steps >= 70)
    lightly = ~very & ~fairly & ((steps >= 1) | (mets.to_numpy() >= 1.5))
    active = int(very.sum() + fairly.sum() + lightly.sum())
    bmr = constants.bmr_kcal * day.day_minutes / 1440
    activity_calories = float((constants.bmr_kcal / 1440 * (mets - 1)).sum())
    total_steps = int(steps.sum())
    distance_km = round(total_steps * constants.stride_m / 1000, 2)
    summary = {
        "activityCalories": int(round(activity_calories)),
        "caloriesBMR": int(round(bmr)),
        "caloriesOut": int(round(bmr + activity_calories)),
        "distances": [{"activity": "total", "distance": distance_km}, {"activity": "tracker", "distance": distance_km}],
        "fairlyActiveMinutes": int(fairly.sum()),
        "lightlyActiveMinutes": int(lightly.sum()),
        "sedentaryMinutes": day.day_minutes - active,  # includes non-wear, as Fitbit does
        "steps": total_steps,
        "veryActiveMinutes": int(very.sum()),
    }
    return {"activities": [], "goals": {"activeMinutes": 30, "caloriesOut": 2500, "distance": 8.05, "steps": 10000},
            "summary": summary}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    if not isinstance(document, dict):
        raise MetricFileError(f'expected a JSON object with a "summary" object, got {type(document).__name__}')
    summary = field(document, "summary", "document")
    distances = field(summary, "distances", "summary", list)
    total = [d for d in distances if isinstance(d, dict) and d.get("activity") == "total"]
    if len(total) != 1:
        raise MetricFileError('summary.distances must hold exactly one {"activity": "total"} entry')
    row = {"participant_id": participant_id, "local_date": pd.Timestamp(day.local_date),
           "steps": number(summary.get("steps")), "distance_km": number(total[0].get("distance"))}
    for column, key in tuple(API_FIELDS.items())[1:]:
        row[column] = number(summary.get(key))
    frame = pd.DataFrame([row], columns=list(COLUMNS))
    return frame.astype({c: "float64" for c in COLUMNS[2:]}).astype({"participant_id": str, "local_date": "datetime64[ns]"})


class ActivitySummaryFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    local_date: Series[pd.Timestamp] = pa.Field(unique=True)
    steps: Series[float] = pa.Field(ge=0, le=150_000)
    distance_km: Series[float] = pa.Field(ge=0, le=250)
    calories_out: Series[float] = pa.Field(ge=0, le=20_000)
    # Fitabase dailyActivity exports have no BMR / activity calorie split (sources.fitabase_daily): null then.
    activity_calories: Series[float] = pa.Field(ge=0, le=20_000, nullable=True)
    calories_bmr: Series[float] = pa.Field(ge=0, le=10_000, nullable=True)
    sedentary_minutes: Series[float] = pa.Field(ge=0, le=1500)
    lightly_active_minutes: Series[float] = pa.Field(ge=0, le=1500)
    fairly_active_minutes: Series[float] = pa.Field(ge=0, le=1500)
    very_active_minutes: Series[float] = pa.Field(ge=0, le=1500)

    @pa.check(*INTEGER_COLUMNS, name="is_integer")
    def is_integer(cls, values: Series[float]) -> Series[bool]:
        return values.isna() | (values == np.round(values))

    @pa.dataframe_check(name="minutes_fit_in_a_day")
    def minutes_fit_in_a_day(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame[list(MINUTE_COLUMNS)].sum(axis=1) <= 1500

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="activity_summary",
    table="activity_daily_summary",
    columns=COLUMNS,
    integer_columns=INTEGER_COLUMNS,
    model=ActivitySummaryFrame,
    generate=generate,
    parse=parse,
    window=None,
    title="Daily activity summary (steps, distance, calories, active/sedentary minutes)",
    source="GET /1/user/-/activities/date/{date}.json",
)
