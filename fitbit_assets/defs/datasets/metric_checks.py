"""Checks of the metric families: the Pandera result per participant-day (a failed day is not loaded), and each
table holds exactly what was validated. Same checks as heart rate (fitbit_assets/defs/datasets/heart_rate_checks.py), one pair per family."""

from functools import partial

import dagster as dg

from fitbit_assets.defs.datasets.heart_rate_checks import rows_match_result, schema_result
from fitbit_assets.defs.datasets.metric_families import FAMILY_ASSETS
from fitbit_assets.domain.metrics import FAMILIES, MetricFamily
from fitbit_assets.domain.metrics import files as metric_files
from fitbit_assets.lib.partitions import participant_day_partitions
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.days import count_rows
from fitbit_assets.warehouse.resource import WarehouseResource


def schema_check(family: MetricFamily, validated: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name=f"validated_{family.name}_schema",
        asset=validated,
        partitions_def=participant_day_partitions,
        description=f"Pandera {family.model.__name__} rules plus a readable file of the expected JSON shape, one "
        f"result per participant-day. A failed day is quarantined and not loaded; the run's other days load.",
    )
    def _check(context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource) -> dg.AssetCheckResult:
        return schema_result(context, study_files, family.name, partial(metric_files.raw_path, study_files, family))

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
        return rows_match_result(
            context, study_files, warehouse, family.name, partial(metric_files.raw_path, study_files, family),
            lambda conn, participant_id, day: count_rows(conn, family.table, participant_id, day, by="local_date"),
        )

    return _check


METRIC_CHECKS: list[dg.AssetChecksDefinition] = []
for _family in FAMILIES:
    _landing, _validated, _rows = FAMILY_ASSETS[_family.name]
    METRIC_CHECKS += [schema_check(_family, _validated), rows_check(_family, _rows)]
