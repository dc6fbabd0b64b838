"""Asset checks: Pandera results gate the load; the table must hold exactly what was validated.

The heart-rate pair is here; ``schema_result`` and ``rows_match_result`` also serve the metric families'
pairs (metric_checks.py).
"""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from psycopg2.extensions import connection

from fitbit_assets.defs.datasets.validated import validated_heart_rate
from fitbit_assets.defs.datasets.warehouse_rows import heart_rate_rows
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.lib.check_reporting import DayResult, report_day_results
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse.days import count_heart_rate_day
from fitbit_assets.warehouse.resource import WarehouseResource


def schema_result(
    context: dg.AssetCheckExecutionContext,
    study_files: StudyFilesResource,
    dataset: str,
    raw_path: Callable[[ParticipantDayKey], Path],
) -> dg.AssetCheckResult:
    """Per participant-day: failed when its stored report failed (the day is quarantined, not loaded) or its raw
    file was never validated; passed when it validated or has no file yet."""
    results: dict[ParticipantDayKey, DayResult] = {}
    for key in participant_days(context):
        report = study_files.read_report(dataset, key)
        path = raw_path(key)
        if report is None:
            results[key] = (
                DayResult(False, f"{path} was not validated", {"file": str(path), "failed_rules": {"not_validated": 1}})
                if path.exists()
                else DayResult(True, "no file for this participant-day yet")
            )
        elif report.passed:
            results[key] = DayResult(True, report.summary(), {"file": str(path), "rows": report.rows})
        else:
            errors = [sample["error"] for sample in report.samples if "error" in sample]
            results[key] = DayResult(
                False,
                f"{path}: {errors[0] if errors else report.summary()} (quarantined, not loaded)",
                {
                    "file": str(path),
                    "rows": report.rows,
                    "failed_rules": dict(report.failures),
                    "sample_rows": dg.MetadataValue.json(report.samples[:20]),
                    "quarantine": str(study_files.quarantine_dir(dataset, key)),
                },
            )
    return report_day_results(context, results, dg.AssetCheckSeverity.ERROR)


def rows_match_result(
    context: dg.AssetCheckExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: str,
    raw_path: Callable[[ParticipantDayKey], Path],
    count_day: Callable[[connection, str, LocalDay], int],
) -> dg.AssetCheckResult:
    """Per loaded participant-day, the validated Parquet row count equals ``count_day`` in the table."""
    roster = study_files.roster()
    results: dict[ParticipantDayKey, DayResult] = {}
    with warehouse.connection() as conn:
        for key in participant_days(context):
            parquet = study_files.validated_path(dataset, key)
            if not raw_path(key).exists() or not parquet.exists():
                continue  # no data yet, or quarantined: the schema check reports it
            expected = pq.read_metadata(parquet).num_rows
            actual = count_day(conn, key.participant_id, roster.local_day(key))
            counts = {"validated_rows": expected, "table_rows": actual}
            results[key] = (
                DayResult(True, f"{actual} rows", counts)
                if actual == expected
                else DayResult(False, f"table holds {actual} rows, {expected} were validated", counts)
            )
    return report_day_results(context, results, dg.AssetCheckSeverity.ERROR)


@dg.asset_check(
    asset=validated_heart_rate,
    partitions_def=participant_day_partitions,
    description="Pandera HeartRateFrame rules (bpm 25..250 and integer, unique and increasing timestamps inside "
    "the participant's local day, no nulls), one result per participant-day. A failed day is quarantined with its "
    "validation report and not loaded; the other days of the run load.",
)
def validated_heart_rate_schema(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource
) -> dg.AssetCheckResult:
    return schema_result(context, study_files, HEART_RATE, study_files.raw_heart_rate_path)


@dg.asset_check(
    asset=heart_rate_rows,
    partitions_def=participant_day_partitions,
    description="The heart_rate table holds exactly the validated row count for each participant-day.",
)
def heart_rate_rows_match_validated(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    return rows_match_result(
        context, study_files, warehouse, HEART_RATE, study_files.raw_heart_rate_path, count_heart_rate_day
    )
