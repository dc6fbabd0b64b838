"""Assembles the code location; definitions live in their own modules."""

import os
import warnings

import dagster as dg

# Partitioned asset checks (Preview) and backfill policies (Beta) are deliberate choices of this project
# (README "Runs, checks and the Dagster UI"); their notices would repeat in every process that loads the code location.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# A ranged run materializes every asset once per participant-day: with this set, Dagster stores each asset's
# materializations of a run in one batch instead of one write per partition (PostgreSQL event logs; SQLite ignores
# it). Read by the run worker when it stores events, so it is set where every run worker loads the code.
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")

from fitbit_assets import settings
from fitbit_assets.adherence_checks import daily_adherence_valid_day, heart_rate_aggregates_match_raw
from fitbit_assets.alerts import alert_channel_from_settings, coordinator_alert_sensor
from fitbit_assets.assets.device_sync import device_sync_events
from fitbit_assets.assets.google_health import google_health_pull
from fitbit_assets.assets.landing import raw_heart_rate_csv
from fitbit_assets.assets.metrics import METRIC_ASSETS
from fitbit_assets.assets.rollups import AdherenceResource, daily_adherence, heart_rate_aggregates
from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.assets.warehouse_rows import heart_rate_rows
from fitbit_assets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.jobs import heart_rate_job
from fitbit_assets.metric_checks import METRIC_CHECKS
from fitbit_assets.schedules import daily_heart_rate_schedule
from fitbit_assets.sensors import participant_roster_sensor
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource

# Validated when the code location loads (the partitions' import already needed the study start): a bad FITBIT_*
# variable fails the load with its name, its value and what is allowed.
configured = settings.load()

defs = dg.Definitions(
    assets=[
        google_health_pull,
        raw_heart_rate_csv,
        validated_heart_rate,
        heart_rate_rows,
        heart_rate_aggregates,
        daily_adherence,
        device_sync_events,
        *METRIC_ASSETS,
    ],
    asset_checks=[
        validated_heart_rate_schema,
        heart_rate_rows_match_validated,
        heart_rate_aggregates_match_raw,
        daily_adherence_valid_day,
        *METRIC_CHECKS,
    ],
    jobs=[heart_rate_job],
    # Every job, including the implicit asset job of UI materializations and asset backfills, runs its steps in
    # the run worker's own process: a step costs milliseconds of work, a process per step cost seconds (issue 12).
    executor=dg.in_process_executor,
    schedules=[daily_heart_rate_schedule],
    sensors=[participant_roster_sensor, coordinator_alert_sensor],
    resources={
        # No DSN: the embedded PostgreSQL under the state folder. An EnvVar keeps the password out of the UI.
        "warehouse": WarehouseResource(dsn=dg.EnvVar("FITBIT_WAREHOUSE_DSN") if configured.warehouse_dsn else None),
        "study_files": StudyFilesResource(),
        # FITBIT_WORN_MINUTE_MIN_SAMPLES / FITBIT_VALID_DAY_MINUTES / FITBIT_IMPUTE_MAX_GAP_MINUTES
        "adherence": AdherenceResource(),
        # Off until FITBIT_ALERT_SMTP_HOST+FITBIT_ALERT_SMTP_TO or FITBIT_ALERT_WEBHOOK_URL are set.
        "alert_channel": alert_channel_from_settings(configured),
    },
)
