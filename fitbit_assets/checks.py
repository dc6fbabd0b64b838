"""Asset checks: Pandera results gate the load; the table must hold exactly what was validated.

The heart-rate pair is here; ``schema_result`` and ``rows_match_result`` also serve the metric families'
pairs (metric_checks.py).
"""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from psycopg2.extensions import connection

from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.assets.warehouse_rows import heart_rate_rows
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, count_heart_rate_day


def schema_result(
    context: dg.AssetCheckExecutionContext,
    study_files: StudyFilesResource,
    dataset: str,
    raw_path: Callable[[ParticipantDayKey], Path],
    *,
    name_first_file_error: bool = False,
) -> dg.AssetCheckResult:
    """Fails for each participant-day whose stored report failed, or whose raw file was never validated."""
    failures: Counter[str] = Counter()
    failed_days, samples, checked = [], [], 0
    for key in participant_days(context):
        report = study_files.read_report(dataset, key)
        if report is None:
            if raw_path(key).exists():
                failures["not_validated"] += 1
                failed_days.append(str(key))
            continue
        checked += 1
        if not report.passed:
            failures.update(report.failures)
            failed_days.append(str(key))
            samples.extend({"day": str(key), **sample} for sample in report.samples[:5])
    description = None
    if failed_days:
        description = f"{len(failed_days)} of {checked} participant-day(s) failed"
        errors = [s["error"] for s in samples if "error" in s]
        if name_first_file_error and errors:
            description += f": {errors[0]}"
    return dg.AssetCheckResult(
        passed=not failed_days,
        description=description,
        metadata={
            "days_checked": checked,
            "failed_days": failed_days[:50],
            "failed_rules": dict(failures),
            "sample_rows": dg.MetadataValue.json(samples[:20]),
        },
    )


def rows_match_result(
    context: dg.AssetCheckExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: str,
    raw_path: Callable[[ParticipantDayKey], Path],
    count_day: Callable[[connection, str, LocalDay], int],
) -> dg.AssetCheckResult:
    """Compares, per loaded participant-day, the validated Parquet row count with ``count_day`` in the table."""
    roster = study_files.roster()
    mismatches, checked = [], 0
    with warehouse.connection() as conn:
        for key in participant_days(context):
            parquet = study_files.validated_path(dataset, key)
            if not raw_path(key).exists() or not parquet.exists():
                continue
            expected = pq.read_metadata(parquet).num_rows
            day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
            actual = count_day(conn, key.participant_id, day)
            checked += 1
            if actual != expected:
                mismatches.append({"day": str(key), "validated_rows": expected, "table_rows": actual})
    return dg.AssetCheckResult(
        passed=not mismatches,
        metadata={"days_checked": checked, "mismatches": dg.MetadataValue.json(mismatches[:50])},
    )


@dg.asset_check(
    asset=validated_heart_rate,
    partitions_def=participant_day_partitions,
    blocking=True,
    description="Pandera HeartRateFrame rules (bpm 25..250 and integer, unique and increasing timestamps inside "
    "the participant's local day, no nulls). Blocking: a failure stops heart_rate_rows in the same run.",
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
