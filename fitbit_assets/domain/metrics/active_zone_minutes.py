"""Active Zone Minutes, 1-minute: fat burn counts 1, cardio and peak count 2 (Fitbit / Google Health API rule).

Source shape: ``GET /1/user/-/activities/active-zone-minutes/date/{date}/1d/1min.json`` ->
``{"activities-active-zone-minutes-intraday": [{"dateTime", "minutes": [{"minute", "value": {
"activeZoneMinutes", "fatBurnActiveZoneMinutes", "cardioActiveZoneMinutes", "peakActiveZoneMinutes"}}]}]}``.
Zone keys may be omitted when zero; ``minute`` is a full local ISO time or ``HH:MM:SS`` (both are parsed).
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
    intraday_frame,
    intraday_minutes,
    local_day_window,
    number,
    optional_number,
)
from fitbit_assets.domain.metrics.physiology import local_iso, synthetic_day
from fitbit_assets.domain.roster import PARTICIPANT_ID_PATTERN, Participant

KEY = "activities-active-zone-minutes-intraday"
API_ZONES = {"fat_burn": "fatBurnActiveZoneMinutes", "cardio": "cardioActiveZoneMinutes", "peak": "peakActiveZoneMinutes"}
CREDIT = {"fat_burn": 1, "cardio": 2, "peak": 2}
COLUMNS = ("participant_id", "ts", "local_date", "fat_burn", "cardio", "peak", "active_zone_minutes")
INTEGER_COLUMNS = COLUMNS[3:]


def generate(participant: Participant, local_date: dt.date) -> dict:
    """One entry per worn minute whose mean bpm is in the fat-burn, cardio or peak zone."""
    day = synthetic_day(participant, local_date)
    active = day.zoned_minutes()
    active = active[active["zone"] != "out_of_range"]
    minutes = []
    for stamp, zone in zip(local_iso(active["minute_utc"], participant.timezone), active["zone"]):
        minutes.append({"minute": stamp, "value": {"activeZoneMinutes": CREDIT[zone], API_ZONES[zone]: CREDIT[zone]}})
    return {KEY: [{"dateTime": local_date.isoformat(), "minutes": minutes}]}


def parse(document: object, participant_id: str, day: LocalDay) -> pd.DataFrame:
    stamps, dates, rows = [], [], []
    for where, date, minute in intraday_minutes(document, KEY):
        value = minute["value"]
        row = {zone: optional_number(value.get(key), f"{where}.value.{key}") for zone, key in API_ZONES.items()}
        row = {zone: 0.0 if np.isnan(v) else v for zone, v in row.items()}  # omitted when zero
        row["active_zone_minutes"] = number(value.get("activeZoneMinutes"))
        rows.append(row)
        stamps.append(minute["minute"])
        dates.append(date)
    values = pd.DataFrame(rows, columns=list(COLUMNS[3:]), dtype="float64")
    return intraday_frame(participant_id, stamps, dates, day, {c: values[c] for c in COLUMNS[3:]})


class ActiveZoneMinutesFrame(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID_PATTERN.pattern)
    ts: Series[pd.DatetimeTZDtype] = pa.Field(unique=True, dtype_kwargs={"unit": "ns", "tz": "UTC"})
    local_date: Series[pd.Timestamp]
    fat_burn: Series[float] = pa.Field(isin=[0, 1])
    cardio: Series[float] = pa.Field(isin=[0, 2])
    peak: Series[float] = pa.Field(isin=[0, 2])
    active_zone_minutes: Series[float] = pa.Field(isin=[1, 2])

    @pa.check("ts", name="whole_minute")
    def whole_minute(cls, ts: Series) -> Series[bool]:
        return ts.isna() | (ts == ts.dt.floor("min"))

    @pa.dataframe_check(name="one_zone_per_minute_and_total_matches")
    def one_zone_and_total(cls, frame: pd.DataFrame) -> Series[bool]:
        zones = frame[["fat_burn", "cardio", "peak"]]
        return ((zones > 0).sum(axis=1) == 1) & (zones.sum(axis=1) == frame["active_zone_minutes"])

    class Config:
        strict = True
        coerce = False


FAMILY = MetricFamily(
    name="active_zone_minutes",
    table="active_zone_minutes",
    columns=COLUMNS,
    integer_columns=INTEGER_COLUMNS,
    model=ActiveZoneMinutesFrame,
    generate=generate,
    parse=parse,
    window=local_day_window,
    title="Active Zone Minutes (1-min)",
    source="GET /1/user/-/activities/active-zone-minutes/date/{date}/1d/1min.json",
)
