"""Deterministic synthetic Fitbit heart rate, shaped like the Web API intraday dataset flattened to rows.

One CSV per participant and local day: header ``time,value``, local wall-clock ``HH:MM:SS`` and integer bpm,
in chronological order (so a fall-back DST day lists the repeated hour twice, in order). The random stream is
seeded by (participant seed, date), so the same seed always gives byte-identical files, and any single day
can be regenerated without generating the days before it. A day inside the device's no-sync stretch is empty:
its heart rate never reached the phone (``fitbit_assets.domain.device_sync``: a device uploads only at a sync).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from fitbit_assets.domain.device_sync import in_no_sync_stretch
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant


@dataclass(frozen=True)
class WearBehaviour:
    """How often the device is off the wrist. Rates are per day."""

    missing_day_rate: float  # whole day without any data (left at home, battery dead)
    charging_rate: float  # one charging session, device off
    charging_minutes: tuple[int, int]
    forgot_rate: float  # a long daytime stretch without the device
    forgot_minutes: tuple[int, int]


WEAR_BEHAVIOURS = {
    "typical": WearBehaviour(0.03, 0.7, (30, 90), 0.08, (120, 360)),
    # Designed to fall below a 10-hour valid-day threshold on about half of the days (every 7-day window).
    "low_wear": WearBehaviour(0.25, 0.9, (60, 150), 0.9, (600, 900)),
}


@dataclass(frozen=True)
class HeartRateParameters:
    """Physiology and sensor behaviour; defaults follow published Fitbit sampling observations."""

    resting_bpm_mean: float = 62.0
    resting_bpm_sd: float = 6.0
    sleep_drop_bpm: float = 7.0  # sleeping HR sits below resting
    awake_rise_bpm: float = 14.0  # light daily activity above resting
    circadian_amplitude_bpm: float = 4.0  # peak mid-afternoon
    exercise_bouts_mean: float = 0.8  # Poisson mean per day
    exercise_minutes: tuple[int, int] = (20, 60)
    exercise_peak_bpm: tuple[int, int] = (120, 165)
    exercise_between_h: tuple[float, float] = (7.5, 20.0)  # bouts start while awake
    # Inter-sample gaps at rest (seconds, probability): ~5 s typical, 10-15 s common, 1-3 s rare.
    rest_gaps_s: tuple[int, ...] = (1, 2, 3, 5, 10, 15)
    rest_gap_probabilities: tuple[float, ...] = (0.02, 0.02, 0.03, 0.54, 0.18, 0.21)
    exercise_sample_probability: float = 0.9  # 1 Hz in exercise mode, with dropouts
    artefact_rate: float = 2e-4  # per sample: a short implausible-but-in-range reading
    min_bpm: int = 30
    max_bpm: int = 220


def participant_traits(participant: Participant, params: HeartRateParameters) -> dict[str, float]:
    rng = np.random.default_rng([participant.seed, 0])
    return {
        "resting_bpm": float(np.clip(rng.normal(params.resting_bpm_mean, params.resting_bpm_sd), 45, 85)),
        "sleep_start_h": float(rng.normal(23.0, 0.6)),
        "wake_h": float(rng.normal(7.0, 0.5)),
    }


def _sample_offsets(rng: np.random.Generator, n_seconds: int, params: HeartRateParameters, exercising):
    """Seconds since local midnight at which the device reports a reading (before wear masking)."""
    gaps = rng.choice(params.rest_gaps_s, size=n_seconds // 3 + 1, p=params.rest_gap_probabilities)
    rest = np.cumsum(gaps) - gaps[0]
    rest = rest[rest < n_seconds]
    rest = rest[~exercising[rest]]
    exercise = np.flatnonzero(exercising)
    exercise = exercise[rng.random(exercise.size) < params.exercise_sample_probability]
    return np.union1d(rest, exercise)


def _intervals(
    rng, n_seconds: int, count: int, minutes: tuple[int, int], between_h: tuple[float, float] = (0, 24)
) -> np.ndarray:
    """A boolean per-second mask covering ``count`` random intervals starting within ``between_h``."""
    mask = np.zeros(n_seconds, dtype=bool)
    for _ in range(count):
        length = int(rng.integers(minutes[0], minutes[1] + 1)) * 60
        earliest = int(between_h[0] * 3600)
        latest = max(earliest + 1, min(int(between_h[1] * 3600), n_seconds - length))
        start = int(rng.integers(earliest, latest))
        mask[start : start + length] = True
    return mask


@dataclass(frozen=True)
class HeartRateSamples:
    """One participant-day's readings before they are written as a file (what the synthetic families derive from)."""

    utc: pd.DatetimeIndex  # the reading's instant
    seconds_of_day: np.ndarray  # its local wall-clock second since midnight (repeats in a fall-back hour)
    bpm: np.ndarray  # int64


@lru_cache(maxsize=1)
def _clock_texts() -> np.ndarray:
    """``HH:MM:SS`` of every second of a day, indexed by the second: one lookup instead of a format per reading."""
    return np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)], dtype=object)


def heart_rate_samples(
    participant: Participant, local_date: dt.date, params: HeartRateParameters = HeartRateParameters()
) -> HeartRateSamples:
    """The readings of one participant-day; none if not worn, or not synced (a no-sync stretch)."""
    day = LocalDay(local_date, participant.timezone)
    rng = np.random.default_rng([participant.seed, local_date.toordinal()])
    wear = WEAR_BEHAVIOURS[participant.wear_profile]
    if rng.random() < wear.missing_day_rate or in_no_sync_stretch(participant, local_date):
        return HeartRateSamples(pd.DatetimeIndex([], tz="UTC"), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    traits = participant_traits(participant, params)
    n_seconds = day.seconds
    bouts = rng.poisson(params.exercise_bouts_mean)
    exercising = _intervals(rng, n_seconds, bouts, params.exercise_minutes, params.exercise_between_h)
    offsets = _sample_offsets(rng, n_seconds, params, exercising)

    not_worn = np.zeros(n_seconds, dtype=bool)
    if rng.random() < wear.charging_rate:
        not_worn |= _intervals(rng, n_seconds, 1, wear.charging_minutes)
    if rng.random() < wear.forgot_rate:
        not_worn |= _intervals(rng, n_seconds, 1, wear.forgot_minutes, (7, 22))
    offsets = offsets[~not_worn[offsets]]

    utc = day.start_utc + pd.to_timedelta(offsets, unit="s")
    local = utc.tz_convert(participant.timezone).tz_localize(None)
    local_seconds = (local - pd.Timestamp(local_date)).total_seconds().to_numpy()
    hour = local_seconds / 3600.0

    asleep = (hour >= traits["sleep_start_h"]) | (hour < traits["wake_h"])
    bpm = np.full(offsets.size, traits["resting_bpm"])
    bpm += np.where(asleep, -params.sleep_drop_bpm, params.awake_rise_bpm)
    bpm += params.circadian_amplitude_bpm * np.sin(2 * np.pi * (hour - 9.0) / 24.0)
    # Slow drift (5-minute knots) plus beat-to-beat noise.
    knots = rng.normal(0, 3.0, n_seconds // 300 + 2)
    bpm += np.interp(offsets / 300.0, np.arange(knots.size), knots) + rng.normal(0, 1.5, offsets.size)
    if exercising.any():
        peak = rng.uniform(*params.exercise_peak_bpm)
        # Ramp up and down over ~5 minutes around each bout.
        kernel = np.ones(301) / 301
        envelope = np.convolve(exercising.astype(float), kernel, mode="same")[offsets]
        bpm += envelope * (peak - bpm)
    artefacts = rng.random(offsets.size) < params.artefact_rate
    bpm[artefacts] = rng.choice([35, 205], size=int(artefacts.sum())) + rng.integers(0, 10, int(artefacts.sum()))
    values = np.clip(np.rint(bpm), params.min_bpm, params.max_bpm).astype(np.int64)

    seconds_of_day = (local.hour * 3600 + local.minute * 60 + local.second).to_numpy()
    return HeartRateSamples(utc, seconds_of_day, values)


def generate_heart_rate_day(
    participant: Participant, local_date: dt.date, params: HeartRateParameters = HeartRateParameters()
) -> pd.DataFrame:
    """Rows ``time`` (local HH:MM:SS) and ``value`` (int bpm) for one participant-day; empty if not worn, or
    not synced (a no-sync stretch)."""
    samples = heart_rate_samples(participant, local_date, params)
    if samples.bpm.size == 0:
        return pd.DataFrame({"time": pd.Series(dtype=str), "value": pd.Series(dtype="int64")})
    return pd.DataFrame({"time": _clock_texts()[samples.seconds_of_day], "value": samples.bpm})


def heart_rate_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Serialize with fixed formatting so identical frames give identical bytes on every platform."""
    lines = map(",".join, zip(frame["time"], map(str, frame["value"].tolist())))
    return ("\n".join(["time,value", *lines]) + "\n").encode("ascii")
