"""Wear-time adherence and short-gap imputation for one participant's local day (pure, no Dagster, no SQL).

Input is the 1-minute series of the local day: for minute ``i`` (0 = local midnight) the number of heart-rate
samples and their mean. A local day has 1380, 1440 or 1500 minutes (DST change days are 23 h / 25 h long).

Definitions (docs/adherence.md "Adherence definitions"):

* worn minute: at least ``worn_minute_min_samples`` samples (default 1: RAPIDS, Fitabase "WearTimeViaHR").
* gap: a maximal run of minutes that are not worn, including runs that touch local midnight.
* valid day: ``wear_minutes >= valid_day_minutes`` (default 600 = 10 h, ActiWearCheck; HeartSteps uses 480).
* imputation: an interior gap (worn minutes on both sides) of at most ``impute_max_gap_minutes`` minutes is
  filled by linear interpolation between the means of the two bounding worn minutes and flagged. Longer gaps
  and gaps at the edges of the day stay missing. Imputed minutes never count as worn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AdherenceParams:
    worn_minute_min_samples: int = 1
    valid_day_minutes: int = 600
    impute_max_gap_minutes: int = 5

    def __post_init__(self) -> None:
        if self.worn_minute_min_samples < 1:
            raise ValueError("worn_minute_min_samples must be >= 1")
        if self.valid_day_minutes < 0:
            raise ValueError("valid_day_minutes must be >= 0")
        if self.impute_max_gap_minutes < 0:
            raise ValueError("impute_max_gap_minutes must be >= 0")


@dataclass(frozen=True)
class Gap:
    start: int  # first missing minute (0 = local midnight)
    length: int
    interior: bool  # worn minutes on both sides (only those can be interpolated)


@dataclass(frozen=True)
class DayAdherence:
    day_minutes: int
    wear_minutes: int
    adherence_pct: float
    longest_gap_minutes: int
    gap_count: int
    valid_day: bool
    imputed_minutes: int
    samples: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MinuteValue:
    minute: int
    mean_bpm: float
    imputed: bool


def find_gaps(worn: Sequence[bool]) -> list[Gap]:
    gaps, start = [], None
    for minute, is_worn in enumerate(worn):
        if not is_worn and start is None:
            start = minute
        elif is_worn and start is not None:
            gaps.append(Gap(start, minute - start, interior=start > 0))
            start = None
    if start is not None:
        gaps.append(Gap(start, len(worn) - start, interior=False))
    return gaps


def impute_series(
    worn: Sequence[bool], means: Sequence[float | None], gaps: Sequence[Gap], max_gap_minutes: int
) -> list[MinuteValue]:
    """Observed worn minutes plus linearly interpolated minutes of the short interior gaps, in minute order."""
    values = [MinuteValue(i, float(means[i]), False) for i, is_worn in enumerate(worn) if is_worn]
    for gap in gaps:
        if not gap.interior or gap.length > max_gap_minutes:
            continue
        before, after = gap.start - 1, gap.start + gap.length
        left, right = float(means[before]), float(means[after])
        span = after - before
        for minute in range(gap.start, after):
            values.append(MinuteValue(minute, left + (right - left) * (minute - before) / span, True))
    values.sort(key=lambda value: value.minute)
    return values


def day_adherence(
    samples: Sequence[int], means: Sequence[float | None], params: AdherenceParams = AdherenceParams()
) -> tuple[DayAdherence, list[MinuteValue]]:
    """Adherence of one local day from its per-minute sample counts and means (one entry per local minute)."""
    if len(samples) != len(means):
        raise ValueError(f"samples ({len(samples)}) and means ({len(means)}) differ in length")
    day_minutes = len(samples)
    if day_minutes == 0:
        raise ValueError("a local day has at least one minute")
    worn = [count >= params.worn_minute_min_samples for count in samples]
    for minute, is_worn in enumerate(worn):
        if is_worn and (means[minute] is None or not math.isfinite(means[minute])):
            raise ValueError(f"worn minute {minute} has no finite mean")
    gaps = find_gaps(worn)
    series = impute_series(worn, means, gaps, params.impute_max_gap_minutes)
    wear_minutes = sum(worn)
    result = DayAdherence(
        day_minutes=day_minutes,
        wear_minutes=wear_minutes,
        adherence_pct=100.0 * wear_minutes / day_minutes,
        longest_gap_minutes=max((gap.length for gap in gaps), default=0),
        gap_count=len(gaps),
        valid_day=wear_minutes >= params.valid_day_minutes,
        imputed_minutes=sum(value.imputed for value in series),
        samples=int(sum(samples)),
    )
    return result, series


def minute_arrays(
    day_minutes: int, rows: Sequence[tuple[int, int, float]]
) -> tuple[list[int], list[float | None]]:
    """Dense per-minute arrays from sparse ``(minute, samples, mean)`` rows (absent minutes have 0 samples)."""
    samples: list[int] = [0] * day_minutes
    means: list[float | None] = [None] * day_minutes
    for minute, count, mean in rows:
        if not 0 <= minute < day_minutes:
            raise ValueError(f"minute {minute} is outside the local day (0..{day_minutes - 1})")
        samples[minute] = int(count)
        means[minute] = float(mean)
    return samples, means


def non_adherence_reason(
    day: DayAdherence, params_valid_day_minutes: int, consecutive_invalid_days: int | None = None,
    trailing_7d_adherence_pct: float | None = None,
) -> str:
    """A coordinator-readable sentence on why a day is not valid."""
    if day.samples == 0:
        text = "no heart-rate data for the whole local day"  # why (not wearing / not syncing): the sync status
    else:
        text = (
            f"worn {day.wear_minutes} of {day.day_minutes} min ({day.adherence_pct:.1f}%), below the valid-day "
            f"threshold of {params_valid_day_minutes} min; longest gap {day.longest_gap_minutes} min "
            f"in {day.gap_count} gap(s)"
        )
    if consecutive_invalid_days:
        text += f"; {consecutive_invalid_days} invalid day(s) in a row"
    if trailing_7d_adherence_pct is not None:
        text += f"; trailing 7-day adherence {trailing_7d_adherence_pct:.1f}%"
    return text
