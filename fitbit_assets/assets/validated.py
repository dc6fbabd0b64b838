"""Stage 2: raw CSV -> UTC frame -> Pandera validation -> Parquet."""

import dagster as dg

from fitbit_assets.assets.landing import raw_heart_rate_csv
from fitbit_assets.heart_rate import (
    RawFileError,
    ValidationReport,
    column_schema,
    read_raw_heart_rate,
    to_utc_frame,
    to_warehouse_frame,
    validate_heart_rate,
)
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import participant_day_partitions, participant_days
from fitbit_assets.study_files import HEART_RATE, StudyFilesResource


@dg.asset(
    deps=[raw_heart_rate_csv],
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="validated",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": column_schema()},
    description="Heart rate in UTC, validated by the Pandera HeartRateFrame model, stored as Parquet. A day that "
    "fails a rule is not stored; the blocking check validated_heart_rate_schema then stops the load.",
)
def validated_heart_rate(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
    roster = study_files.roster()
    rows, passed, failed, no_data = 0, 0, [], 0
    for key in participant_days(context):
        raw_path = study_files.raw_heart_rate_path(key)
        if not raw_path.exists():
            no_data += 1
            continue
        day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
        try:
            frame = to_utc_frame(read_raw_heart_rate(raw_path), key.participant_id, day)
        except RawFileError as exc:
            report = ValidationReport(0, {"file.readable": 1}, [{"rule": "file.readable", "error": str(exc)}])
            frame = None
        else:
            report = validate_heart_rate(frame, day)
        study_files.write_validated(HEART_RATE, key, to_warehouse_frame(frame) if report.passed else None, report)
        if report.passed:
            passed += 1
            rows += report.rows
        else:
            failed.append(f"{key} ({raw_path}): {report.summary()}")
            context.log.error(f"{key}: {raw_path} failed validation: {report.summary()}")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "days_passed": passed,
            "days_failed": len(failed),
            "failures": failed[:20],
            "days_without_raw_file": no_data,
        }
    )
