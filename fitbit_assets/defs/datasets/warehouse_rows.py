"""Stage 3: validated frames -> the dataset's table, one atomic replace per participant-day (``Dataset.replace_day``)."""

import dagster as dg

from fitbit_assets.defs.datasets.dataset import Dataset
from fitbit_assets.lib.partitions import participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets.warehouse.fingerprints import processed_fingerprints, record_processed
from fitbit_assets.warehouse.resource import WarehouseResource


def load_validated_days(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: Dataset,
) -> dg.MaterializeResult:
    """Replace each participant-day whose validated input changed since it was last loaded. Days without a raw file
    are counted; quarantined days (validation failed) keep their previous rows and do not hold back the others."""
    roster = study_files.roster()
    stage = f"{dataset.name}_rows"
    inserted_total, replaced_total, days_loaded, unchanged, no_data, quarantined = 0, 0, 0, 0, 0, []
    keys = participant_days(context)
    with warehouse.connection() as conn:
        for participant_id in sorted({key.participant_id for key in keys}):
            upsert_participant(conn, roster.get(participant_id))
        loaded = processed_fingerprints(conn, stage, keys)
        for key in keys:
            raw = dataset.raw_path(study_files, key)
            if not raw.exists():
                no_data += 1
                continue
            report = study_files.read_report(dataset.name, key)
            if report is None or not report.passed:
                quarantined.append(str(key))
                continue
            if loaded.get((key.participant_id, key.local_date)) == report.input_fingerprint:
                unchanged += 1
                continue
            participant = roster.get(key.participant_id)
            frame = study_files.read_validated(dataset.name, key)
            deleted, inserted = dataset.replace_day(conn, raw, participant, roster.local_day(key), frame)
            record_processed(conn, stage, key, report.input_fingerprint, inserted)
            replaced_total += deleted
            inserted_total += inserted
            days_loaded += 1
    context.log.info(f"{dataset.table}: loaded {inserted_total} rows over {days_loaded} participant-day(s), {unchanged} unchanged")
    if quarantined:
        context.log.warning(f"{dataset.table}: not loaded, failed validation (quarantined): {quarantined[:10]}")
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
