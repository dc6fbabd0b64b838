"""Checks of the metric families: the Pandera result gates the load (blocking), and each table holds exactly
what was validated. Same pattern as heart rate (fitbit_assets/checks.py), one pair per family."""

from collections import Counter

import dagster as dg
import pyarrow.parquet as pq

from fitbit_assets.assets.metrics import FAMILY_ASSETS
from fitbit_assets.local_days import LocalDay
from fitbit_assets.metrics import FAMILIES, MetricFamily
from fitbit_assets.metrics import files as metric_files
from fitbit_assets.partitions import participant_day_partitions, participant_days
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, count_rows


def schema_check(family: MetricFamily, validated: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name=f"validated_{family.name}_schema",
        asset=validated,
        partitions_def=participant_day_partitions,
        blocking=True,
        description=f"Pandera {family.model.__name__} rules plus a readable file of the expected JSON shape. "
        f"Blocking: a failure stops {family.name}_rows in the same run, so nothing of the range is loaded.",
    )
    def _check(context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource) -> dg.AssetCheckResult:
        failures: Counter[str] = Counter()
        failed_days, samples, checked = [], [], 0
        for key in participant_days(context):
            report = metric_files.read_report(study_files, family, key)
            if report is None:
                if metric_files.raw_path(study_files, family, key).exists():
                    failures["not_validated"] += 1
                    failed_days.append(str(key))
                continue
            checked += 1
            if not report.passed:
                failures.update(report.failures)
                failed_days.append(str(key))
                samples.extend({"day": str(key), **sample} for sample in report.samples[:5])
        errors = [s["error"] for s in samples if "error" in s]
        description = None
        if failed_days:
            description = f"{len(failed_days)} of {checked} participant-day(s) failed"
            if errors:
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

    return _check


def rows_check(family: MetricFamily, rows: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name=f"{family.name}_rows_match_validated",
        asset=rows,
        partitions_def=participant_day_partitions,
        description=f"The {family.table} table holds exactly the validated row count for each participant-day.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        roster = study_files.roster()
        mismatches, checked = [], 0
        with warehouse.connection() as conn:
            for key in participant_days(context):
                parquet = metric_files.validated_path(study_files, family, key)
                if not metric_files.raw_path(study_files, family, key).exists() or not parquet.exists():
                    continue
                expected = pq.read_metadata(parquet).num_rows
                day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
                actual = count_rows(conn, family.table, key.participant_id, day, by="local_date")
                checked += 1
                if actual != expected:
                    mismatches.append({"day": str(key), "validated_rows": expected, "table_rows": actual})
        return dg.AssetCheckResult(
            passed=not mismatches,
            metadata={"days_checked": checked, "mismatches": dg.MetadataValue.json(mismatches[:50])},
        )

    return _check


METRIC_CHECKS: list[dg.AssetChecksDefinition] = []
for _family in FAMILIES:
    _landing, _validated, _rows = FAMILY_ASSETS[_family.name]
    METRIC_CHECKS += [schema_check(_family, _validated), rows_check(_family, _rows)]
