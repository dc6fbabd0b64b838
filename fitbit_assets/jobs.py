import dagster as dg

from fitbit_assets.assets.landing import raw_heart_rate_csv
from fitbit_assets.assets.validated import validated_heart_rate
from fitbit_assets.assets.warehouse_rows import heart_rate_rows

heart_rate_job = dg.define_asset_job(
    "heart_rate_job",
    selection=dg.AssetSelection.assets(raw_heart_rate_csv, validated_heart_rate, heart_rate_rows),
    description="Raw CSV -> validated Parquet -> heart_rate table (with checks) for a participant's day range.",
)
