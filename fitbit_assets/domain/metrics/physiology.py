"""The synthetic participant-day every metric family is derived from, so all metrics agree with heart rate.

Everything starts from ``generate_heart_rate_day`` (the same samples the heart-rate pipeline loads): minute
means of bpm, the main sleep that ends on the day (from the generator's sleep/wake traits, kept only if the
device was worn for most of it), Fitbit heart-rate zones from a per-participant age (max HR = 220 - age).
No metric exists for a minute or a 5-minute window without heart-rate samples.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.heart_rate import to_utc_frame
from fitbit_assets.domain.synthetic import (
    HeartRateParameters,
    participant_traits,
    generate_heart_rate_day,
    heart_rate_samples,
)

ZONES = ("out_of_range", "fat_burn", "cardio", "peak")
ZONE_NAMES = {"out_of_range": "Out of Range", "fat_burn": "Fat Burn", "cardio": "Cardio", "peak": "Peak"}
MIN_SLEEP_WORN_FRACTION = 0.5  # a night counts as the main sleep only if the device saw half of it
RESTING_WINDOW_MINUTES = 30


@dataclass(frozen=True)
class ParticipantConstants:
    """Per-participant physiology beyond the heart-rate generator's traits, fixed by the seed."""

    age: int
    bmr_kcal: float  # basal metabolic rate per 24 h
    stride_m: float
    spo2_pct: float
    rmssd_ms: float
    breathing_rate: float

    @property
    def max_hr(self) -> int:
        return 220 - self.age

    def zone_bounds(self) -> dict[str, tuple[int, int]]:
        """Fitbit's default zones: fat burn from 50 %, cardio from 70 %, peak from 85 % of max HR."""
        fat, cardio, peak = (int(round(self.max_hr * f)) for f in (0.50, 0.70, 0.85))
        return {"out_of_range": (30, fat), "fat_burn": (fat, cardio), "cardio": (cardio, peak), "peak": (peak, 220)}


@lru_cache(maxsize=256)
def constants(participant: Participant) -> ParticipantConstants:
    rng = np.random.default_rng([participant.seed, 7])
    return ParticipantConstants(
        age=int(rng.integers(25, 66)),
        bmr_kcal=float(rng.uniform(1400, 1900)),
        stride_m=float(rng.uniform(0.65, 0.80)),
        spo2_pct=float(rng.uniform(95.0, 97.5)),
        rmssd_ms=float(rng.uniform(25, 60)),
        breathing_rate=float(rng.uniform(13, 18)),
    )


def zone_of(bpm: pd.Series, bounds: dict[str, tuple[int, int]]) -> pd.Series:
    edges = [-np.inf, bounds["fat_burn"][0], bounds["cardio"][0], bounds["peak"][0], np.inf]
    return pd.cut(bpm, edges, right=False, labels=list(ZONES)).astype(str)


# Every family of a run reads each day (and the night before): a run's days must all fit (~60 kB each).
@lru_cache(maxsize=4096)
def heart_rate_minutes(participant: Participant, local_date: dt.date) -> pd.DataFrame:
    """Worn minutes of one local day: ``minute_utc``, ``local_minute``, ``mean_bpm``, ``samples``, ``asleep``."""
    columns = {"minute_utc": "datetime64[ns, UTC]", "local_minute": "datetime64[ns]", "mean_bpm": "float64",
               "samples": "int64", "asleep": "bool"}
    day = LocalDay(local_date, participant.timezone)
    if day.seconds == 86_400:
        # The generator's readings, not their CSV: the instants the file's local times convert back to.
        samples = heart_rate_samples(participant, local_date)
        bpm = pd.Series(samples.bpm.astype("float64"), index=samples.utc.as_unit("ns"))
    else:
        # A DST change: the file's local times are read back as the pipeline reads them (a repeated hour by file
        # order), so the minutes are those of the loaded rows.
        raw = generate_heart_rate_day(participant, local_date)
        frame = to_utc_frame(raw.astype(str), participant.participant_id, day)
        bpm = pd.Series(frame["bpm"].to_numpy(), index=pd.DatetimeIndex(frame["ts"]))
    if bpm.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    grouped = bpm.groupby(bpm.index.floor("min")).agg(["mean", "size"])
    minute_utc = grouped.index.to_series().reset_index(drop=True)
    local_minute = minute_utc.dt.tz_convert(participant.timezone).dt.tz_localize(None)
    traits = participant_traits(participant, HeartRateParameters())
    hour = (local_minute - pd.Timestamp(local_date)).dt.total_seconds() / 3600
    return pd.DataFrame(
        {
            "minute_utc": minute_utc,
            "local_minute": local_minute,
            "mean_bpm": grouped["mean"].to_numpy(),
            "samples": grouped["size"].to_numpy().astype("int64"),
            "asleep": ((hour >= traits["sleep_start_h"]) | (hour < traits["wake_h"])).to_numpy(),
        }
    )


@dataclass(frozen=True)
class SyntheticDay:
    participant: Participant
    local_date: dt.date
    minutes: pd.DataFrame  # worn minutes of the local day
    night: pd.DataFrame | None  # worn minutes of the main sleep ending on this day; None: no main sleep
    sleep_start_utc: pd.Timestamp
    sleep_end_utc: pd.Timestamp

    @property
    def constants(self) -> ParticipantConstants:
        return constants(self.participant)

    @property
    def day(self) -> LocalDay:
        return LocalDay(self.local_date, self.participant.timezone)

    @property
    def day_minutes(self) -> int:
        return self.day.seconds // 60

    def rng(self, family: int) -> np.random.Generator:
        """Seeded by (participant seed, date, family): deterministic, and independent across families."""
        return np.random.default_rng([self.participant.seed, self.local_date.toordinal(), 1000 + family])

    def resting_heart_rate(self) -> int | None:
        """The lowest 30-minute mean of the main sleep, as Fitbit's resting HR sits near the night's minimum."""
        if self.night is None:
            return None
        lowest = lowest_rolling_mean(self.night)
        return None if lowest is None else int(round(lowest))

    def zoned_minutes(self) -> pd.DataFrame:
        bounds = self.constants.zone_bounds()
        return self.minutes.assign(zone=zone_of(self.minutes["mean_bpm"], bounds))

    def mets(self, bpm: pd.Series) -> pd.Series:
        """Energy expenditure in METs from heart-rate reserve above the usual awake heart rate (1 there and
        below, ~10 at max HR)."""
        params = HeartRateParameters()
        baseline = participant_traits(self.participant, params)["resting_bpm"] + params.awake_rise_bpm
        reserve = ((bpm - baseline) / max(self.constants.max_hr - baseline, 1)).clip(lower=0)
        return 1 + 9 * reserve


def lowest_rolling_mean(night: pd.DataFrame, window: int = RESTING_WINDOW_MINUTES) -> float | None:
    series = night.set_index("minute_utc")["mean_bpm"]
    if series.empty:
        return None
    full = series.reindex(pd.date_range(series.index.min(), series.index.max(), freq="min"))
    rolling = full.rolling(window, min_periods=int(window * 2 / 3)).mean()
    return None if rolling.isna().all() else float(rolling.min())


# Each family's landing walks every day of the run: the days must all fit, as heart_rate_minutes' do (small frames).
@lru_cache(maxsize=4096)
def synthetic_day(participant: Participant, local_date: dt.date) -> SyntheticDay:
    traits = participant_traits(participant, HeartRateParameters())
    previous = local_date - dt.timedelta(days=1)
    start_local = pd.Timestamp(previous) + pd.Timedelta(hours=traits["sleep_start_h"])
    end_local = pd.Timestamp(local_date) + pd.Timedelta(hours=traits["wake_h"])
    start, end = (
        t.tz_localize(participant.timezone, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
        for t in (start_local, end_local)
    )
    both = pd.concat([heart_rate_minutes(participant, previous), heart_rate_minutes(participant, local_date)])
    night = both[(both["minute_utc"] >= start) & (both["minute_utc"] < end)].reset_index(drop=True)
    window_minutes = (end - start).total_seconds() / 60
    if len(night) < MIN_SLEEP_WORN_FRACTION * window_minutes:
        night = None
    return SyntheticDay(participant, local_date, heart_rate_minutes(participant, local_date), night, start, end)


def local_iso(utc: pd.Series, timezone: str, fmt: str = "%Y-%m-%dT%H:%M:%S") -> list[str]:
    return list(utc.dt.tz_convert(timezone).dt.strftime(fmt))
