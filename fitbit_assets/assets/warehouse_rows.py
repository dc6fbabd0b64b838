"""Stage 3: validated frames -> the heart_rate table, one atomic replace per participant-day.

``load_validated_days`` is the loop every dataset's rows asset runs (heart rate here, the metric families in
assets/metrics.py); each passes how one day is replaced in its table.
"""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
from psycopg2.extensions import connection

from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.sources.lineage import read_lineage
from fitbit_assets.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, replace_heart_rate_day, upsert_participant

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
    """Replace each participant-day that has a raw file with its validated frame; days without one are counted."""
    roster = study_files.roster()
    inserted_total, replaced_total, days_loaded, no_data = 0, 0, 0, 0
    keys = participant_days(context)
    with warehouse.connection() as conn:
        for participant_id in sorted({key.participant_id for key in keys}):
            upsert_participant(conn, roster.get(participant_id))
        for key in keys:
            if not raw_path(key).exists():
                no_data += 1
                continue
            day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
            deleted, inserted = replace_day(conn, key, day, study_files.read_validated(dataset, key))
            replaced_total += deleted
            inserted_total += inserted
            days_loaded += 1
    context.log.info(f"{table}: loaded {inserted_total} rows over {days_loaded} participant-day(s)")
    return dg.MaterializeResult(
        metadata={
            "rows_inserted": inserted_total,
            "rows_replaced": replaced_total,
            "days_loaded": days_loaded,
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
    description="Rows of the heart_rate table (hypertable on TimescaleDB). Each participant-day is replaced "
    "atomically (DELETE of its UTC window + COPY in one transaction): reloads leave exactly the new rows.",
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
