"""Stage 3: validated frames -> the heart_rate table, one atomic replace per participant-day.

``load_validated_days`` is the loop every dataset's rows asset runs (heart rate here, the metric families in
assets/metrics.py); each passes how one day is replaced in its table.
"""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
from psycopg2.extensions import connection

from fitbit_assets.defs.datasets.validated import validated_heart_rate
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.sources.lineage import read_lineage
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse.days import replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.fingerprints import processed_fingerprints, record_processed
from fitbit_assets.warehouse.resource import WarehouseResource

# (connection, partition, its local day, validated frame) -> (rows deleted, rows inserted)
ReplaceDay = Callable[[connection, ParticipantDayKey, LocalDay, pd.DataFrame], tuple[int, int]]


def load_validated_days(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: str,
    table: str,
    raw_path: Callable[[ParticipantDayKey], Path],
    replace_day: ReplaceDay,
) -> dg.MaterializeResult:
    """Replace each participant-day whose validated input changed since it was last loaded. Days without a raw file
    are counted; quarantined days (validation failed) keep their previous rows and do not hold back the others."""
    roster = study_files.roster()
    stage = f"{dataset}_rows"
    inserted_total, replaced_total, days_loaded, unchanged, no_data, quarantined = 0, 0, 0, 0, 0, []
    keys = participant_days(context)
    with warehouse.connection() as conn:
        for participant_id in sorted({key.participant_id for key in keys}):
            upsert_participant(conn, roster.get(participant_id))
        loaded = processed_fingerprints(conn, stage, keys)
        for key in keys:
            if not raw_path(key).exists():
                no_data += 1
                continue
            report = study_files.read_report(dataset, key)
            if report is None or not report.passed:
                quarantined.append(str(key))
                continue
            if loaded.get((key.participant_id, key.local_date)) == report.input_fingerprint:
                unchanged += 1
                continue
            deleted, inserted = replace_day(conn, key, roster.local_day(key), study_files.read_validated(dataset, key))
            record_processed(conn, stage, key, report.input_fingerprint, inserted)
            replaced_total += deleted
            inserted_total += inserted
            days_loaded += 1
    context.log.info(f"{table}: loaded {inserted_total} rows over {days_loaded} participant-day(s), {unchanged} unchanged")
    if quarantined:
        context.log.warning(f"{table}: not loaded, failed validation (quarantined): {quarantined[:10]}")
    return dg.MaterializeResult(
        metadata={
            "rows_inserted": inserted_total,
            "rows_replaced": replaced_total,
            "days_loaded": days_loaded,
            "days_unchanged": unchanged,
            "days_quarantined": quarantined[:50],
            "days_without_data": no_data,
        }
    )


@dg.asset(
    deps=[validated_heart_rate],
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="warehouse",
    kinds={"postgres"},
    pool="warehouse",
    description="Rows of the heart_rate table (a hypertable where TimescaleDB is installed, monthly partitions on "
    "plain PostgreSQL). Each participant-day is replaced atomically (DELETE of its UTC window + COPY in one "
    "transaction) when its validated input changed: reloads leave exactly the new rows.",
)
def heart_rate_rows(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    roster = study_files.roster()

    def replace_day(conn: connection, key: ParticipantDayKey, day: LocalDay, frame: pd.DataFrame) -> tuple[int, int]:
        lineage = read_lineage(study_files.raw_heart_rate_path(key), roster.get(key.participant_id).source)
        return replace_heart_rate_day(conn, key.participant_id, day, frame, lineage=lineage)

    return load_validated_days(
        context, study_files, warehouse, HEART_RATE, "heart_rate", study_files.raw_heart_rate_path, replace_day
    )
