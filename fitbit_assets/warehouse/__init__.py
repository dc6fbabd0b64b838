"""The warehouse (PostgreSQL, TimescaleDB when available), one module per concern:

- ``database``: ``Warehouse``, the connections with the schema applied once per process, without Dagster (the API,
  the CLI's reports); ``resource``: the same as the Dagster ``WarehouseResource``. It and ``dagster_storage`` (loaded
  by the Dagster instance) are the only modules here that import Dagster, so the API and the query layer load
  without it (docs/layout.md, "Layers");
- ``connection``: the transaction helper, ``WarehouseUnavailableError``, DSN redaction;
- ``sql_files`` and ``schema``: the statements in ``sql/`` (beside these modules) and the idempotent schema apply;
- ``copy_text``: COPY encoding; ``days``: the atomic participant-day replace and counts; ``device_sync``: sync events;
- ``fingerprints``: ``day_loads``; ``rollups``: aggregates and daily adherence;
- ``embedded_server`` and ``dagster_storage``: the local PostgreSQL server and Dagster's own storage on it.

Import from the modules themselves: re-exporting the resource here would import Dagster for every reader.
"""
