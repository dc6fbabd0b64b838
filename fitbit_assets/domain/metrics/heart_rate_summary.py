"""Heart-rate daily summary: resting heart rate and the four zones (minutes, min/max bpm, calories).

Source shape: ``GET /1/user/-/activities/heart/date/{date}/1d.json`` -> ``{"activities-heart": [{"dateTime",
"value": {"heartRateZones": [{"name", "min", "max", "minutes", "caloriesOut"}], "restingHeartRate"}}]}``.
``restingHeartRate`` is absent on days without it (stored as NULL).
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
    number,
    optional_number,
)
from fitbit_assets.domain.metrics.physiology import ZONE_NAMES, ZONES, synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

KEY = "activities-heart"
ZONE_FIELDS = ("minutes", "min_bpm", "max_bpm", "calories")
ZONE_COLUMNS = tuple(f"{zone}_{f}" for zone in ZONES for f in ZONE_FIELDS)
COLUMNS = ("participant_id", "local_date", "resting_heart_rate", *ZONE_COLUMNS)
INTEGER_COLUMNS = ("resting_heart_rate", *(c for c in ZONE_COLUMNS if not c.endswith("_calories")))
_API_FIELD = {"minutes": "minutes", "min_bpm": "min", "max_bpm": "max", "calories": "caloriesOut"}


def generate(participant: Participant, local_date: dt.date) -> dict:
    day = synthetic_day(participant, local_date)
    minutes = day.zoned_minutes()
    kcal_per_minute = day.constants.bmr_kcal / 1440 * day.mets(minutes["mean_bpm"])
    zones = []
    for zone, (low, high) in day.constants.zone_bounds().items():
        in_zone = minutes["zone"] == zone
        zones.append(
            {
                "caloriesOut": round(float(kcal_per_minute[in_zone].sum()), 2),
                "max": high,
                "min": low,
                "minutes": int(in_zone.sum()),
                "name": ZONE_NAMES[zone],
            }
        )
    value: dict = {"customHeartRateZones": [], "heartRateZones": zones}
    resting = day.resting_heart_rate()
    if resting is not None:
        value["restingHeartRate"] = resting
    return {KEY: [{"dateTime": local_date.isoformat(), "value": value}]}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    rows = []
    for index, entry in enumerate(entries(document, KEY)):
        where = f'"{KEY}"[{index}]'
        value = field(entry, "value", where)
        zones = field(value, "heartRateZones", f"{where}.value", list)
        row = {"participant_id": participant_id, "date": entry.get("dateTime"),
               "resting_heart_rate": optional_number(
            value.get("restingHeartRate"), f"{where}.value.restingHeartRate")}
        by_name = {}
        for z, zone in enumerate(zones):
            if not isinstance(zone, dict) or not isinstance(zone.get("name"), str):
                raise MetricFileError(f"{where}.value.heartRateZones[{z}] must be an object with a name")
            by_name[zone["name"]] = zone
        for key, name in ZONE_NAMES.items():
            if name not in by_name:
                raise MetricFileError(f'{where}.value.heartRateZones lacks the "{name}" zone')
            for f in ZONE_FIELDS:
                row[f"{key}_{f}"] = number(by_name[name].get(_API_FIELD[f]))
        rows.append(row)
    return daily_frame(rows, COLUMNS[2:])


class HeartRateSummaryFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    local_date: Series[pd.Timestamp] = pa.Field(unique=True)
    resting_heart_rate: Series[float] = pa.Field(nullable=True, ge=25, le=250)
    out_of_range_minutes: Series[float] = pa.Field(ge=0, le=1500)
    out_of_range_min_bpm: Series[float] = pa.Field(ge=0, le=250)
    out_of_range_max_bpm: Series[float] = pa.Field(ge=0, le=250)
    out_of_range_calories: Series[float] = pa.Field(ge=0, le=20000)
    fat_burn_minutes: Series[float] = pa.Field(ge=0, le=1500)
    fat_burn_min_bpm: Series[float] = pa.Field(ge=0, le=250)
    fat_burn_max_bpm: Series[float] = pa.Field(ge=0, le=250)
    fat_burn_calories: Series[float] = pa.Field(ge=0, le=20000)
    cardio_minutes: Series[float] = pa.Field(ge=0, le=1500)
    cardio_min_bpm: Series[float] = pa.Field(ge=0, le=250)
    cardio_max_bpm: Series[float] = pa.Field(ge=0, le=250)
    cardio_calories: Series[float] = pa.Field(ge=0, le=20000)
    peak_minutes: Series[float] = pa.Field(ge=0, le=1500)
    peak_min_bpm: Series[float] = pa.Field(ge=0, le=250)
    peak_max_bpm: Series[float] = pa.Field(ge=0, le=250)
    peak_calories: Series[float] = pa.Field(ge=0, le=20000)

    @pa.check("resting_heart_rate", *(c for c in ZONE_COLUMNS if not c.endswith("_calories")), name="is_integer")
    def is_integer(cls, values: Series[float]) -> Series[bool]:
        return values.isna() | (values == np.round(values))

    @pa.dataframe_check(name="zone_minutes_fit_in_a_day")
    def zone_minutes_fit_in_a_day(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame[[f"{z}_minutes" for z in ZONES]].sum(axis=1) <= 1500

    @pa.dataframe_check(name="zones_ascending")
    def zones_ascending(cls, frame: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=frame.index)
        for zone in ZONES:
            ok &= frame[f"{zone}_min_bpm"] <= frame[f"{zone}_max_bpm"]
        for lower, upper in zip(ZONES, ZONES[1:]):
            ok &= frame[f"{lower}_max_bpm"] <= frame[f"{upper}_min_bpm"] + 1
        return ok

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="heart_rate_summary",
    table="heart_rate_daily_summary",
    columns=COLUMNS,
    integer_columns=INTEGER_COLUMNS,
    model=HeartRateSummaryFrame,
    generate=generate,
    parse=parse,
    window=None,
    title="Heart-rate daily summary (resting HR, zones)",
    source="GET /1/user/-/activities/heart/date/{date}/1d.json",
)
