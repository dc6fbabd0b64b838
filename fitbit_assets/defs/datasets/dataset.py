"""What the pipeline needs to know of one dataset to land, validate and load it: heart rate and every metric family.

Each dataset goes through the same three stages (factory.py) with the same two checks (checks.py); what differs
between them is data or a callable here. Heart rate's specifics: its day files are CSV, a run that finds no day
at all fails (retried: devices sync late), its rows carry the lineage of their export, its table is partitioned
by UTC time and its validated asset lists the table's columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
from psycopg2.extensions import connection

from fitbit_assets.domain import heart_rate, validation
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES, MetricFamily, MetricFileError, read_metric_file, validate_frames
from fitbit_assets.domain.metrics.files import document_bytes
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.sources.lineage import read_lineage
from fitbit_assets.domain.synthetic import generate_heart_rate_day, heart_rate_csv_bytes
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.lib.table_schema import table_schema
from fitbit_assets.warehouse.days import count_heart_rate_day, count_rows, replace_heart_rate_day, replace_local_date_rows

# [(raw file, participant id, its local day)] -> [(warehouse frame, or None when the report failed; report)]
ValidateFiles = Callable[[list[tuple[Path, str, LocalDay]]], list[tuple[pd.DataFrame | None, validation.ValidationReport]]]


@dataclass(frozen=True)
class DayLoad:
    """One participant-day's validated frame on its way into the dataset's table."""

    raw: Path  # the day's raw file (its lineage)
    participant: Participant
    day: LocalDay
    frame: pd.DataFrame


# (connection, days, in_transaction(cursor, index of the day, rows inserted)) -> (rows deleted, rows inserted) per day
ReplaceDays = Callable[[connection, list[DayLoad], Callable], list[tuple[int, int]]]


@dataclass(frozen=True)
class Dataset:
    name: str  # asset names, landing/<name>/, parquet/<name>/, validation reports
    raw_suffix: str  # "csv" or "json": the day file's extension, the landing asset's name and kind
    table: str
    # Synthetic participant's day -> the raw file's bytes and its row count (None when the format has no rows).
    synthetic_day: Callable[[Participant, dt.date], tuple[bytes, int | None]]
    validate_files: ValidateFiles
    # Participant-days validated together, and loaded in one transaction: their frames are in memory at once.
    day_batch: int
    replace_days: ReplaceDays
    count_day: Callable[[connection, str, LocalDay], int]
    landing_description: str
    validated_description: str
    rows_description: str
    schema_check_description: str
    validated_metadata: dict = field(default_factory=dict)
    # Dataset whose landing files (and landing asset) this one reads; None: its own, landing/<name>/.
    landing: str | None = None
    # For a dataset every participant-day should have: where its missing days were looked for. A run that
    # finds none of its days then fails (retried); without it, missing days are only logged.
    where_looked_for: Callable[[StudyFilesResource, list[ParticipantDayKey]], str] | None = None

    @property
    def landing_name(self) -> str:
        return self.landing or self.name

    @property
    def landing_asset_name(self) -> str:
        return f"raw_{self.name}_{self.raw_suffix}"


def _synthetic_heart_rate_day(participant: Participant, local_date: dt.date) -> tuple[bytes, int]:
    frame = generate_heart_rate_day(participant, local_date)
    return heart_rate_csv_bytes(frame), len(frame)


def _validate_heart_rate_file(path: Path, participant_id: str, day: LocalDay):
    try:
        frame = heart_rate.to_utc_frame(heart_rate.read_raw_heart_rate(path), participant_id, day)
    except heart_rate.RawFileError as exc:
        return None, validation.file_error_report(exc)
    report = heart_rate.validate_heart_rate(frame, day)
    return (heart_rate.to_warehouse_frame(frame) if report.passed else None), report


def _replace_heart_rate_days(conn: connection, loads: list[DayLoad], in_transaction: Callable):
    """A transaction per day: a 1 Hz day is 86,400 rows, and its lineage and partitions are its own."""
    return [
        replace_heart_rate_day(
            conn, load.participant.participant_id, load.day, load.frame,
            lineage=read_lineage(load.raw, load.participant.source),
            in_transaction=lambda cur, inserted, index=index: in_transaction(cur, index, inserted),
        )
        for index, load in enumerate(loads)
    ]


HEART_RATE_DATASET = Dataset(
    name=heart_rate.HEART_RATE,
    raw_suffix="csv",
    table="heart_rate",
    synthetic_day=_synthetic_heart_rate_day,
    validate_files=lambda files: [_validate_heart_rate_file(*file) for file in files],
    day_batch=1,  # a 1 Hz day is 86,400 rows: validated alone, its Pandera call is mostly row work
    replace_days=_replace_heart_rate_days,
    count_day=count_heart_rate_day,
    where_looked_for=StudyFilesResource.where_heart_rate_was_looked_for,
    validated_metadata={"dagster/column_schema": table_schema(heart_rate.HeartRateFrame)},
    landing_description="Raw heart-rate CSV (local time,value) per participant and local day: generated for "
    "synthetic participants, split out of the real exports dropped in landing/<participant>/ or landing/fitabase/ "
    "(study-wide Fitabase files, rows routed by the roster's fitabase_id), only new or changed exports being read.",
    validated_description="Heart rate in UTC, validated by the Pandera HeartRateFrame model, stored as Parquet. A "
    "day that fails a rule is quarantined (raw file + report) and not loaded; the check validated_heart_rate_schema "
    "fails for that participant-day only. Days whose raw file did not change since their last validation are "
    "skipped.",
    rows_description="Rows of the heart_rate table (a hypertable where TimescaleDB is installed, monthly partitions "
    "on plain PostgreSQL). Each participant-day is replaced atomically (DELETE of its UTC window + COPY in one "
    "transaction) when its validated input changed: reloads leave exactly the new rows.",
    schema_check_description="Pandera HeartRateFrame rules (bpm 25..250 and integer, unique and increasing "
    "timestamps inside the participant's local day, no nulls), one result per participant-day. A failed day is "
    "quarantined with its validation report and not loaded; the other days of the run load.",
)


def _synthetic_document(family: MetricFamily, participant: Participant, local_date: dt.date) -> tuple[bytes, None]:
    return document_bytes(family.generate(participant, local_date)), None


def _validate_metric_files(family: MetricFamily, files: list[tuple[Path, str, LocalDay]]):
    parsed: list[tuple[LocalDay, pd.DataFrame | MetricFileError]] = []
    for path, participant_id, day in files:
        try:
            parsed.append((day, read_metric_file(family, path, participant_id, day)))
        except MetricFileError as exc:
            parsed.append((day, exc))
    reports = iter(validate_frames(family, [(day, frame) for day, frame in parsed if isinstance(frame, pd.DataFrame)]))
    results = []
    for _, frame in parsed:
        if isinstance(frame, MetricFileError):
            results.append((None, validation.file_error_report(frame)))
        else:
            report = next(reports)
            results.append((family.to_warehouse_frame(frame) if report.passed else None, report))
    return results


def _replace_family_days(family: MetricFamily, conn: connection, loads: list[DayLoad], in_transaction: Callable):
    days = [(load.participant.participant_id, load.day, load.frame) for load in loads]
    return replace_local_date_rows(conn, family.table, family.columns, days, in_transaction=in_transaction)


def family_dataset(family: MetricFamily) -> Dataset:
    return Dataset(
        name=family.name,
        raw_suffix="json",
        table=family.table,
        landing=family.landing,
        synthetic_day=partial(_synthetic_document, family),
        validate_files=partial(_validate_metric_files, family),
        day_batch=250,  # a day of a family is at most a few hundred rows
        replace_days=partial(_replace_family_days, family),
        count_day=lambda conn, participant_id, day: count_rows(conn, family.table, participant_id, day,
                                                               by="local_date"),
        landing_description=f"{family.title}: the Web API response ({family.source}) per participant and local "
        f"day, generated from the synthetic heart-rate day for synthetic participants, picked up from "
        f"landing/{family.name}/<participant>/<date>.json for real exports, or split out of the exports dropped in "
        f"landing/<participant>/ and landing/fitabase/ where a reader exists (a missing file is no data yet).",
        validated_description=f"{family.title}, parsed and validated by the Pandera {family.model.__name__} model, "
        f"stored as Parquet. A malformed file or a failed rule quarantines that participant-day (not loaded; the "
        f"check validated_{family.name}_schema fails for it only). Unchanged raw files are not validated again.",
        rows_description=f"Rows of the {family.table} table. Each participant-day is replaced atomically (DELETE of "
        f"its local_date + COPY in one transaction): reloads leave exactly the new rows.",
        schema_check_description=f"Pandera {family.model.__name__} rules plus a readable file of the expected JSON "
        f"shape, one result per participant-day. A failed day is quarantined and not loaded; the run's other days "
        f"load.",
    )


# Heart rate first: a dataset sharing another's landing comes after it (FAMILIES keeps that order too).
DATASETS: tuple[Dataset, ...] = (HEART_RATE_DATASET, *(family_dataset(family) for family in FAMILIES))
