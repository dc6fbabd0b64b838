"""Stage 2: raw file -> UTC frame -> Pandera validation -> Parquet, one participant-day at a time.

``validate_days`` is the loop every dataset's validated asset runs (heart rate here, the metric families in
assets/metrics.py). A day whose raw file is unchanged since it was last validated is skipped (the daily tick
re-covers trailing days for late syncs; most of them did not change). A day that fails is quarantined with its
report and not loaded; the other days of the run go on.
"""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd

from fitbit_assets.defs.datasets.landing import raw_heart_rate_csv
from fitbit_assets.domain.heart_rate import (
    RawFileError,
    ValidationReport,
    column_schema,
    file_error_report,
    read_raw_heart_rate,
    to_utc_frame,
    to_warehouse_frame,
    validate_heart_rate,
)
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource, input_fingerprint

# (raw file, partition, its local day) -> (warehouse frame, or None when the report failed; report)
ValidateFile = Callable[[Path, ParticipantDayKey, LocalDay], tuple[pd.DataFrame | None, ValidationReport]]


def validate_days(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    dataset: str,
    raw_path: Callable[[ParticipantDayKey], Path],
    validate_file: ValidateFile,
) -> dg.MaterializeResult:
    roster = study_files.roster()
    rows, passed, unchanged, failed, no_data = 0, 0, 0, [], 0
    for key in participant_days(context):
        path = raw_path(key)
        if not path.exists():
            no_data += 1
            continue
        fingerprint = input_fingerprint(path)
        report = study_files.read_report(dataset, key)
        if report is None or report.input_fingerprint != fingerprint or (
            report.passed and not study_files.validated_path(dataset, key).exists()
        ):
            frame, report = validate_file(path, key, roster.local_day(key))
            report.input_fingerprint = fingerprint
            study_files.write_validated(dataset, key, frame, report, path)
        else:
            unchanged += 1
        if report.passed:
            passed += 1
            rows += report.rows
        else:
            errors = [sample["error"] for sample in report.samples if "error" in sample]
            failed.append(f"{key} ({path}): {errors[0] if errors else report.summary()}")
            context.log.error(f"{key}: {path} failed validation, quarantined: {failed[-1]}")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "days_passed": passed,
            "days_unchanged": unchanged,
            "days_failed": len(failed),
            "failures": failed[:20],
            "days_without_raw_file": no_data,
        }
    )


def validate_heart_rate_file(path: Path, key: ParticipantDayKey, day: LocalDay) -> tuple[pd.DataFrame | None, ValidationReport]:
    try:
        frame = to_utc_frame(read_raw_heart_rate(path), key.participant_id, day)
    except RawFileError as exc:
        return None, file_error_report(exc)
    report = validate_heart_rate(frame, day)
    return (to_warehouse_frame(frame) if report.passed else None), report


@dg.asset(
    deps=[raw_heart_rate_csv],
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="validated",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": column_schema()},
    description="Heart rate in UTC, validated by the Pandera HeartRateFrame model, stored as Parquet. A day that "
    "fails a rule is quarantined (raw file + report) and not loaded; the check validated_heart_rate_schema fails "
    "for that participant-day only. Days whose raw file did not change since their last validation are skipped.",
)
def validated_heart_rate(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
    return validate_days(context, study_files, HEART_RATE, study_files.raw_heart_rate_path, validate_heart_rate_file)
