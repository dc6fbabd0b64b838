"""The two checks of every dataset: Pandera results gate the load (``validated_<name>_schema``), and the table
holds exactly what was validated (``<name>_rows_match_validated``). One result per local day, naming its failing participant-days."""

import dagster as dg
import pyarrow.parquet as pq

from fitbit_assets.defs.datasets.dataset import DATASETS, Dataset
from fitbit_assets.defs.datasets.factory import DATASET_ASSETS
from fitbit_assets.defs.datasets.validated import failure_reason
from fitbit_assets.lib.check_reporting import DayResult, report_day_results
from fitbit_assets.lib.partitions import ParticipantDayKey, local_day_partitions, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource


def schema_result(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, dataset: Dataset
) -> dg.AssetCheckResult:
    """Per participant-day: failed when its stored report failed (the day is quarantined, not loaded) or its raw
    file was never validated; passed when it validated or has no file yet."""
    roster = study_files.roster()
    results: dict[ParticipantDayKey, DayResult] = {}
    for key in participant_days(context, roster):
        report = study_files.read_report(dataset.name, key)
        path = study_files.day_file(dataset.landing_name, key)
        if report is None:
            results[key] = (
                DayResult(False, f"{path} was not validated", {"file": str(path), "failed_rules": {"not_validated": 1}})
                if path.exists()
                else DayResult(True, "no file for this participant-day yet")
            )
        elif report.passed:
            results[key] = DayResult(True, report.summary(), {"file": str(path), "rows": report.rows})
        else:
            results[key] = DayResult(
                False,
                f"{path}: {failure_reason(report)} (quarantined, not loaded)",
                {
                    "file": str(path),
                    "rows": report.rows,
                    "failed_rules": dict(report.failures),
                    "sample_rows": dg.MetadataValue.json(report.samples[:20]),
                    "quarantine": str(study_files.quarantine_dir(dataset.name, key)),
                },
            )
    return report_day_results(context, roster, results, dg.AssetCheckSeverity.ERROR)


def rows_match_result(
    context: dg.AssetCheckExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: Dataset,
) -> dg.AssetCheckResult:
    """Per loaded participant-day, the validated Parquet row count equals the day's rows in the table."""
    roster = study_files.roster()
    results: dict[ParticipantDayKey, DayResult] = {}
    with warehouse.connection() as conn:
        for key in participant_days(context, roster):
            parquet = study_files.validated_path(dataset.name, key)
            if not study_files.day_file(dataset.landing_name, key).exists() or not parquet.exists():
                continue  # no data yet, or quarantined: the schema check reports it
            expected = pq.read_metadata(parquet).num_rows
            actual = dataset.count_day(conn, key.participant_id, roster.local_day(key))
            counts = {"validated_rows": expected, "table_rows": actual}
            results[key] = (
                DayResult(True, f"{actual} rows", counts)
                if actual == expected
                else DayResult(False, f"table holds {actual} rows, {expected} were validated", counts)
            )
    return report_day_results(context, roster, results, dg.AssetCheckSeverity.ERROR)


def schema_check(dataset: Dataset, validated: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name=f"validated_{dataset.name}_schema",
        asset=validated,
        partitions_def=local_day_partitions,
        description=dataset.schema_check_description,
    )
    def _check(context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource) -> dg.AssetCheckResult:
        return schema_result(context, study_files, dataset)

    return _check


def rows_check(dataset: Dataset, rows: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name=f"{dataset.name}_rows_match_validated",
        asset=rows,
        partitions_def=local_day_partitions,
        description=f"The {dataset.table} table holds exactly the validated row count for each participant-day.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        return rows_match_result(context, study_files, warehouse, dataset)

    return _check


DATASET_CHECKS: dict[str, tuple[dg.AssetChecksDefinition, dg.AssetChecksDefinition]] = {
    dataset.name: (schema_check(dataset, DATASET_ASSETS[dataset.name].validated),
                   rows_check(dataset, DATASET_ASSETS[dataset.name].rows))
    for dataset in DATASETS
}
CHECKS: list[dg.AssetChecksDefinition] = [check for pair in DATASET_CHECKS.values() for check in pair]
# Named: tests and benchmarks run them with the heart-rate assets.
validated_heart_rate_schema, heart_rate_rows_match_validated = DATASET_CHECKS["heart_rate"]
