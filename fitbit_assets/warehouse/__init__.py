"""The warehouse (PostgreSQL, TimescaleDB when available), one module per concern:

- ``resource``: the Dagster ``WarehouseResource``. It and ``dagster_storage`` (loaded by the Dagster instance) are
  the only modules here that import Dagster, so the read-only API and the query layer load without it;
- ``connection``: the transaction helper, ``WarehouseUnavailableError``, DSN redaction;
- ``sql_files`` and ``schema``: the statements in ``sql/`` (beside these modules) and the idempotent schema apply;
- ``copy_text``: COPY encoding; ``days``: the atomic participant-day replace and counts;
- ``fingerprints``: ``day_loads``; ``rollups``: aggregates and daily adherence;
- ``embedded_server`` and ``dagster_storage``: the local PostgreSQL server and Dagster's own storage on it.

Import from the modules themselves: re-exporting the resource here would import Dagster for every reader.
"""
