"""Stage 3: validated frames -> the heart_rate table, one atomic replace per participant-day."""

import dagster as dg

from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import participant_day_partitions, participant_days
from fitbit_assets.sources.lineage import read_lineage
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, replace_heart_rate_day, upsert_participant


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
    inserted_total, replaced_total, days_loaded, no_data = 0, 0, 0, 0
    keys = participant_days(context)
    with warehouse.connection() as conn:
        for participant_id in sorted({key.participant_id for key in keys}):
            upsert_participant(conn, roster.get(participant_id))
        for key in keys:
            if not study_files.raw_heart_rate_path(key).exists():
                no_data += 1
                continue
            day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
            frame = study_files.read_validated(key)
            lineage = read_lineage(study_files.raw_heart_rate_path(key), roster.get(key.participant_id).source)
            deleted, inserted = replace_heart_rate_day(conn, key.participant_id, day, frame, lineage=lineage)
            replaced_total += deleted
            inserted_total += inserted
            days_loaded += 1
    context.log.info(f"loaded {inserted_total} rows over {days_loaded} participant-day(s)")
    return dg.MaterializeResult(
        metadata={
            "rows_inserted": inserted_total,
            "rows_replaced": replaced_total,
            "days_loaded": days_loaded,
            "days_without_data": no_data,
        }
    )
