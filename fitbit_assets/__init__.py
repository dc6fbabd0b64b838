"""fitbit-assets: Fitbit wearable data into PostgreSQL/TimescaleDB as Dagster assets."""
