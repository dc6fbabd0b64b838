"""Hand-built participant-days with known wear (shared by the adherence, alert and TimescaleDB tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fitbit_assets.defs.adherence.assets import AdherenceResource, daily_adherence
from fitbit_assets.defs.adherence.checks import daily_adherence_valid_day
from fitbit_assets.defs.datasets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.defs.datasets.factory import heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
from fitbit_assets.defs.device_sync.assets import device_sync_events
from fitbit_assets.defs.rollups.assets import heart_rate_aggregates
from fitbit_assets.defs.rollups.checks import heart_rate_aggregates_match_raw
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets_tests.support.runs import materialize_graph

FULL_GRAPH = [
    raw_heart_rate_csv,
    validated_heart_rate,
    heart_rate_rows,
    heart_rate_aggregates,
    daily_adherence,
    device_sync_events,
    validated_heart_rate_schema,
    heart_rate_rows_match_validated,
    heart_rate_aggregates_match_raw,
    daily_adherence_valid_day,
]
SAMPLE_OFFSETS_S = (0, 15, 30, 45)  # 4 samples in every worn minute


def bpm_at(minute: int) -> int:
    """Deterministic bpm per local minute index: a saw-tooth 60..99, so interpolation is easy to check."""
    return 60 + minute % 40


def all_worn(_: int) -> bool:
    return True


def worn_except(*ranges: tuple[int, int]) -> Callable[[int], bool]:
    """Worn everywhere except the half-open minute ranges given."""
    return lambda minute: not any(start <= minute < end for start, end in ranges)


def worn_only(start: int, end: int) -> Callable[[int], bool]:
    return lambda minute: start <= minute < end


def day_frame(participant_id: str, day: LocalDay, worn: Callable[[int], bool]) -> pd.DataFrame:
    """The warehouse frame (participant_id, ts UTC, bpm) of a hand-built day."""
    start = day.start_utc
    rows = [
        (participant_id, start + pd.Timedelta(minutes=minute, seconds=offset), bpm_at(minute))
        for minute in range(day.seconds // 60)
        if worn(minute)
        for offset in SAMPLE_OFFSETS_S
    ]
    frame = pd.DataFrame(rows, columns=["participant_id", "ts", "bpm"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def landing_csv(day: LocalDay, worn: Callable[[int], bool]) -> str:
    """The same day as a raw Fitbit-style ``time,value`` CSV in local wall-clock time (DST folds in order)."""
    frame = day_frame("x", day, worn)
    local = frame["ts"].dt.tz_convert(day.timezone).dt.strftime("%H:%M:%S")
    return "time,value\n" + "".join(f"{t},{b}\n" for t, b in zip(local, frame["bpm"]))


def drop_day(study_files, participant, date: dt.date, worn: Callable[[int], bool]) -> Path:
    path = study_files.day_file("heart_rate", ParticipantDayKey(date, participant.participant_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(landing_csv(LocalDay(date, participant.timezone), worn))
    return path


def materialize_days(instance, study_files, warehouse, *, participant_day=None, tags=None, adherence=None):
    return materialize_graph(
        FULL_GRAPH, instance, study_files, warehouse, participant_day=participant_day, tags=tags,
        adherence=adherence or AdherenceResource(),
    )
