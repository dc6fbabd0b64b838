import dagster as dg

from fitbit_assets.assets.device_sync import device_sync_events
from fitbit_assets.assets.google_health import google_health_pull
from fitbit_assets.assets.landing import raw_heart_rate_csv
from fitbit_assets.assets.metrics import METRIC_ASSETS
from fitbit_assets.assets.rollups import daily_adherence, heart_rate_aggregates
from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.assets.warehouse_rows import heart_rate_rows

heart_rate_job = dg.define_asset_job(
    "heart_rate_job",
    selection=dg.AssetSelection.assets(
        google_health_pull, raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, heart_rate_aggregates,
        daily_adherence, device_sync_events,
    )
    | dg.AssetSelection.assets(*METRIC_ASSETS),  # the metric families (fitbit_assets/metrics/)
    description="Raw CSV -> validated Parquet -> heart_rate table -> 1m/1h/1d rollups -> daily adherence (with checks) "
    "for a participant's day range.",
)
