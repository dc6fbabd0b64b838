"""Stage 2: raw file -> UTC frame -> Pandera validation -> Parquet, each participant-day its own file and report.

A day whose raw file is unchanged since it was last validated is skipped (the daily tick re-covers trailing days
for late syncs; most of them did not change). A day that fails is quarantined with its report and not loaded; the
other days of the run go on.
"""

import dagster as dg

from fitbit_assets.defs.datasets.dataset import Dataset
from fitbit_assets.domain.validation import ValidationReport
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import participant_days, run_local_dates
from fitbit_assets.lib.study_files import StudyFilesResource, input_fingerprint


def failure_reason(report: ValidationReport) -> str:
    """The first error of a failed report (a file that could not be read), else its rule summary."""
    errors = [sample["error"] for sample in report.samples if "error" in sample]
    return errors[0] if errors else report.summary()


VALIDATED_COUNTS = ("rows", "participants_passed", "participants_unchanged", "participants_failed",
                    "participants_without_raw_file")


def validate_days(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    dataset: Dataset,
) -> dg.MaterializeResult:
    roster = study_files.roster()
    tally = DayTally(run_local_dates(context))

    def count(key, path, report) -> None:
        if report.passed:
            tally.count(key.local_date, "participants_passed")
            tally.count(key.local_date, "rows", report.rows)
        else:
            failure = f"{key} ({path}): {failure_reason(report)}"
            tally.name(key.local_date, "participants_failed", failure)
            context.log.error(f"{key}: {path} failed validation, quarantined: {failure}")

    changed = []
    for key in participant_days(context, roster):
        path = study_files.day_file(dataset.landing_name, key)
        if not path.exists():
            tally.count(key.local_date, "participants_without_raw_file")
            continue
        fingerprint = input_fingerprint(path)
        report = study_files.read_report(dataset.name, key)
        if report is None or report.input_fingerprint != fingerprint or (
            report.passed and not study_files.validated_path(dataset.name, key).exists()
        ):
            changed.append((key, path, fingerprint))
        else:
            tally.count(key.local_date, "participants_unchanged")  # input unchanged since validated: not read again
            count(key, path, report)
    # Validated a batch at a time: one Pandera call screens a batch (Dataset.day_batch bounds the memory).
    for start in range(0, len(changed), dataset.day_batch):
        batch = changed[start:start + dataset.day_batch]
        results = dataset.validate_files([(path, key.participant_id, roster.local_day(key)) for key, path, _ in batch])
        for (key, path, fingerprint), (frame, report) in zip(batch, results, strict=True):
            report.input_fingerprint = fingerprint
            study_files.write_validated(dataset.name, key, frame, report, path)
            count(key, path, report)
    return tally.report(context, VALIDATED_COUNTS)
