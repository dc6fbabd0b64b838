"""The warehouse's Dagster resource, kept apart so the other warehouse modules (``dagster_storage`` aside) load
without Dagster: ``database.Warehouse`` holds the configuration and the connections."""

import dagster as dg

from fitbit_assets.warehouse.database import Warehouse


class WarehouseResource(dg.ConfigurableResource, Warehouse):
    """Connections to the warehouse, with the schema applied once per process."""
