"""The metric families' assets, built per family with the same three stages as heart rate:

``raw_<family>_json`` (landing: Web-API-shaped JSON generated for synthetic participants, picked up for real
exports) -> ``validated_<family>`` (parser + Pandera model -> Parquet) -> ``<family>_rows`` (atomic
participant-day replace into the family's table). All partitioned by participant-day, single-run backfills.
"""

from functools import partial
from pathlib import Path

import dagster as dg
import pandas as pd

from fitbit_assets.defs.datasets.exports import stage_landing_exports
from fitbit_assets.defs.datasets.validated import validate_days
from fitbit_assets.defs.datasets.warehouse_rows import load_validated_days
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.domain.heart_rate import ValidationReport, file_error_report
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES, MetricFamily, MetricFileError, read_metric_file, validate_frame
from fitbit_assets.domain.metrics import files as metric_files
from fitbit_assets.domain.sources import STAGED_DATASETS
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.days import replace_rows
from fitbit_assets.warehouse.resource import WarehouseResource


def landing_asset(family: MetricFamily) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{family.name}_json",
        deps=[google_health_pull],  # pulled days land as family documents like any other source's
        partitions_def=participant_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="landing",
        kinds={"json"},
        description=f"{family.title}: the Web API response ({family.source}) per participant and local day, "
        f"generated from the synthetic heart-rate day for synthetic participants, picked up from "
        f"landing/{family.name}/<participant>/<date>.json for real exports, or split out of the exports dropped in "
        f"landing/<participant>/ and landing/fitabase/ where a reader exists (a missing file is no data yet).",
    )
    def _landing(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
        roster = study_files.roster()
        keys = participant_days(context)
        held_back, staging = (
            stage_landing_exports(context, study_files, roster, keys, family.name)
            if family.name in STAGED_DATASETS else (set(), {})
        )
        generated, found, waiting, not_enrolled = 0, 0, [], 0
        for key in keys:
            participant = roster.get(key.participant_id)
            if key.local_date < participant.enrolled_on:
                not_enrolled += 1
            elif key in held_back:
                continue  # exports there but not loadable: reported by staging and the schema check
            elif metric_files.raw_path(study_files, family, key).exists():
                found += 1  # synthetic days are deterministic: generated once
            elif participant.source == "synthetic":
                metric_files.write_raw(study_files, family, key, family.generate(participant, key.local_date))
                generated += 1
            else:
                waiting.append(str(key))
        if waiting:  # devices sync late and not every export holds every metric: skip, the schedule retries
            context.log.warning(f"no {family.name} data yet for {len(waiting)} day(s): {waiting[:10]}")
        return dg.MaterializeResult(
            metadata={
                "days_generated": generated,
                "days_already_in_landing": found,
                "days_waiting_for_data": waiting,
                "days_before_enrolment": not_enrolled,
                **staging,
            }
        )

    return _landing


def validated_asset(family: MetricFamily, landing: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"validated_{family.name}",
        deps=[landing],
        partitions_def=participant_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="validated",
        kinds={"pandas", "parquet"},
        description=f"{family.title}, parsed and validated by the Pandera {family.model.__name__} model, stored as "
        f"Parquet. A malformed file or a failed rule quarantines that participant-day (not loaded; the check "
        f"validated_{family.name}_schema fails for it only). Unchanged raw files are not validated again.",
    )
    def _validated(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
        def validate_file(path: Path, key: ParticipantDayKey, day: LocalDay) -> tuple[pd.DataFrame | None, ValidationReport]:
            try:
                frame = read_metric_file(family, path, key.participant_id, day)
            except MetricFileError as exc:
                return None, file_error_report(exc)
            report = validate_frame(family.schema(day), frame)
            return (family.to_warehouse_frame(frame) if report.passed else None), report

        return validate_days(context, study_files, family.name, partial(metric_files.raw_path, study_files, family), validate_file)

    return _validated


def rows_asset(family: MetricFamily, validated: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{family.name}_rows",
        deps=[validated],
        partitions_def=participant_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="warehouse",
        kinds={"postgres"},
        pool="warehouse",
        description=f"Rows of the {family.table} table. Each participant-day is replaced atomically (DELETE of its "
        f"local_date + COPY in one transaction): reloads leave exactly the new rows.",
    )
    def _rows(
        context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        def replace_day(conn, key: ParticipantDayKey, day: LocalDay, frame: pd.DataFrame) -> tuple[int, int]:
            return replace_rows(conn, family.table, family.columns, frame, key.participant_id, day, by="local_date")

        return load_validated_days(
            context, study_files, warehouse, family.name, family.table,
            partial(metric_files.raw_path, study_files, family), replace_day,
        )

    return _rows


def build_family_assets(
    family: MetricFamily, landing: dg.AssetsDefinition | None = None
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition, dg.AssetsDefinition]:
    """The family's three assets; ``landing`` is the landing asset of the family whose files it reads, if any."""
    landing = landing or landing_asset(family)
    validated = validated_asset(family, landing)
    return landing, validated, rows_asset(family, validated)


FAMILY_ASSETS: dict[str, tuple[dg.AssetsDefinition, dg.AssetsDefinition, dg.AssetsDefinition]] = {}
for _family in FAMILIES:
    FAMILY_ASSETS[_family.name] = build_family_assets(
        _family, FAMILY_ASSETS[_family.landing][0] if _family.landing else None
    )
# A shared landing asset appears once.
METRIC_ASSETS: list[dg.AssetsDefinition] = list(
    {asset.key: asset for assets in FAMILY_ASSETS.values() for asset in assets}.values()
)
