"""The resources every stage uses, and the executor of every job, wired in one place."""

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.defs.adherence.assets import AdherenceResource
from fitbit_assets.defs.alerts.channel import alert_channel_from_settings
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    # Validated when the code location loads (the partitions' import already needed the study start): a bad FITBIT_*
    # variable fails the load with its name, its value and what is allowed.
    configured = settings.load()
    return dg.Definitions(
        # Every job, including the implicit asset job of UI materializations and asset backfills, runs its steps in
        # the run worker's own process: a step costs milliseconds of work, a process per step cost seconds
        # (docs/dagster-ui.md, "One process per run").
        executor=dg.in_process_executor,
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
