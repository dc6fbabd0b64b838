"""The three assets of every dataset (dataset.py): ``raw_<name>_<csv|json>`` (landing) -> ``validated_<name>``
(Pandera -> Parquet) -> ``<name>_rows`` (the warehouse table). All partitioned by participant-day, single-run
backfills; their checks are in checks.py.
"""

from typing import NamedTuple

import dagster as dg

from fitbit_assets.defs.datasets.dataset import DATASETS, Dataset
from fitbit_assets.defs.datasets.landing import land_days
from fitbit_assets.defs.datasets.validated import validate_days
from fitbit_assets.defs.datasets.warehouse_rows import load_validated_days
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.lib.partitions import participant_day_asset
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource


class DatasetAssets(NamedTuple):
    landing: dg.AssetsDefinition
    validated: dg.AssetsDefinition
    rows: dg.AssetsDefinition


def landing_asset(dataset: Dataset) -> dg.AssetsDefinition:
    @participant_day_asset(
        name=dataset.landing_asset_name,
        deps=[google_health_pull],  # pulled days land as day files like any other source's
        group_name="landing",
        kinds={dataset.raw_suffix},
        description=dataset.landing_description,
    )
    def _landing(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
        return land_days(context, study_files, dataset)

    return _landing


def validated_asset(dataset: Dataset, landing: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @participant_day_asset(
        name=f"validated_{dataset.name}",
        deps=[landing],
        group_name="validated",
        kinds={"pandas", "parquet"},
        metadata=dataset.validated_metadata,
        description=dataset.validated_description,
    )
    def _validated(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
        return validate_days(context, study_files, dataset)

    return _validated


def rows_asset(dataset: Dataset, validated: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @participant_day_asset(
        name=f"{dataset.name}_rows",
        deps=[validated],
        group_name="warehouse",
        kinds={"postgres"},
        pool="warehouse",
        description=dataset.rows_description,
    )
    def _rows(
        context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        return load_validated_days(context, study_files, warehouse, dataset)

    return _rows


def build_dataset_assets(dataset: Dataset, landing: dg.AssetsDefinition | None = None) -> DatasetAssets:
    """The dataset's three assets; ``landing`` is the landing asset of the dataset whose files it reads, if any."""
    landing = landing or landing_asset(dataset)
    validated = validated_asset(dataset, landing)
    return DatasetAssets(landing, validated, rows_asset(dataset, validated))


DATASET_ASSETS: dict[str, DatasetAssets] = {}
for _dataset in DATASETS:
    DATASET_ASSETS[_dataset.name] = build_dataset_assets(
        _dataset, DATASET_ASSETS[_dataset.landing].landing if _dataset.landing else None
    )
# A shared landing asset appears once.
ASSETS: list[dg.AssetsDefinition] = list(
    {asset.key: asset for assets in DATASET_ASSETS.values() for asset in assets}.values()
)
# Named: other stages depend on them (rollups read heart_rate_rows), tests and benchmarks run them.
raw_heart_rate_csv, validated_heart_rate, heart_rate_rows = DATASET_ASSETS["heart_rate"]
