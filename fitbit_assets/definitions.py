"""Assembles the code location; definitions live in their own modules."""

import os

import dagster as dg

from fitbit_assets.assets.landing import raw_heart_rate_csv
from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.assets.warehouse_rows import heart_rate_rows
from fitbit_assets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.jobs import heart_rate_job
from fitbit_assets.schedules import daily_heart_rate_schedule
from fitbit_assets.sensors import participant_roster_sensor
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource

defs = dg.Definitions(
    assets=[raw_heart_rate_csv, validated_heart_rate, heart_rate_rows],
    asset_checks=[validated_heart_rate_schema, heart_rate_rows_match_validated],
    jobs=[heart_rate_job],
    schedules=[daily_heart_rate_schedule],
    sensors=[participant_roster_sensor],
    resources={
        # No DSN: the embedded PostgreSQL under the state folder.
        "warehouse": WarehouseResource(
            dsn=dg.EnvVar("FITBIT_WAREHOUSE_DSN") if os.environ.get("FITBIT_WAREHOUSE_DSN") else None
        ),
        "study_files": StudyFilesResource(),
    },
)
