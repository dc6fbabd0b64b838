"""How big each benchmark section runs: the full run (numbers for RESULTS.md) and the quick CI smoke run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    reps: int
    executemany_sample: int
    backfill_days: int
    year_days: int
    scale: tuple[int, ...]
    layout_participants: int
    layout_days: int
    layout_rounds: int
    layout_history_months: int
    cohort_participants: int
    cohort_step: str  # one sample every ... in the generated cohort history


FULL = Sizes(
    reps=5, executemany_sample=3000, backfill_days=30, year_days=365, scale=(1, 10, 100),
    layout_participants=6, layout_days=5, layout_rounds=2, layout_history_months=36, cohort_participants=100,
    cohort_step="10 minutes",
)
QUICK = Sizes(
    reps=1, executemany_sample=300, backfill_days=1, year_days=20, scale=(1, 2, 4),
    layout_participants=2, layout_days=2, layout_rounds=1, layout_history_months=2, cohort_participants=4,
    cohort_step="1 hour",
)
