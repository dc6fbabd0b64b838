"""The local Dagster instance's storage (runs, event log, schedules) in the embedded PostgreSQL, database ``dagster``.

Why not Dagster's default SQLite files: a ranged run stores a few dozen events per participant-day (a
materialization per asset and partition, an evaluation per check and partition) and SQLite commits each with an
fsync; concurrent runs also contend for its file locks. Measured on one ranged run of 5 participants x 4 days
(benchmarks/RESULTS.md "UI path"): SQLite 94 s, PostgreSQL 46 s, PostgreSQL with pooled connections 14 s.

Three things differ from ``dagster_postgres``'s storages, everything else is Dagster's own code:
- the URL is the embedded server's, which is started (or attached to) by whichever Dagster process loads the
  instance first (``embedded_server.ensure_server``: in a fresh interpreter, never forked from gRPC);
- the event log keeps a small connection pool per process: ``PostgresEventLogStorage`` opens a connection per
  operation (NullPool), and on the embedded server each costs a backend fork, most of a run's time.
- asset-check statuses are updated from a checkpoint instead of rebuilt from every check execution on each request
  (``CheckStateCheckpoints``).
The ``dagster`` database commits asynchronously (``synchronous_commit = off``): a power loss can lose the last
fraction of a second of run events, never corrupt them; the warehouse database keeps synchronous commits.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import Field, StringSource
from dagster._core.definitions.asset_key import AssetCheckKey
from dagster._core.storage.asset_check_state import AssetCheckState
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine

from fitbit_assets.warehouse.embedded_server import dagster_storage_url, default_pgdata

CONFIG = {"pgdata": Field(StringSource, is_required=False, description="embedded server folder (default: .state/pgdata)")}


def _url(config_value: Mapping[str, Any]) -> str:
    pgdata = config_value.get("pgdata")
    return dagster_storage_url(Path(pgdata) if pgdata else default_pgdata())


class _EmbeddedServerUrl:
    """Config ``{pgdata}`` instead of a URL: the storage connects to the embedded server's Dagster database."""

    @classmethod
    def config_type(cls):
        return CONFIG

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        return cls(postgres_url=_url(config_value), inst_data=inst_data)


class EmbeddedRunStorage(_EmbeddedServerUrl, PostgresRunStorage):
    pass


class EmbeddedScheduleStorage(_EmbeddedServerUrl, PostgresScheduleStorage):
    pass


class CheckStateCheckpoints:
    """Asset-check statuses kept per process and brought up to date from the events after them.

    Dagster 1.13's SQL storage has no saved check state (``get_checkpointed_asset_check_state`` returns an empty
    one), so every request rebuilds each check's status from all its executions, and the lineage page's live query
    asks for every check of every asset, polled. Dagster's own ``bulk_update_asset_check_state`` already updates a
    checkpoint incrementally (it reads only the partitions whose check or materialization events are newer); this
    keeps its results as the checkpoint, in the process's memory, which is what dagster-io/dagster#33243 stores in
    the database upstream. A checkpoint made for another partitions definition (a moved study start) is dropped.
    Events are append-only; after a wipe of asset events, restart the webserver.
    """

    def get_checkpointed_asset_check_state(self, keys: Sequence[AssetCheckKey]) -> Mapping[AssetCheckKey, AssetCheckState]:
        checkpoints = self.__dict__.setdefault("_check_state_checkpoints", {})
        return {key: checkpoints.get(key, AssetCheckState.empty()) for key in keys}

    def get_asset_check_state(self, keys):
        checkpoints = self.__dict__.setdefault("_check_state_checkpoints", {})
        for key, partitions_def in keys:
            if key in checkpoints and not checkpoints[key].compatible_with(partitions_def):
                del checkpoints[key]
        states = super().get_asset_check_state(keys)
        checkpoints.update(states)
        return states


class EmbeddedEventLogStorage(_EmbeddedServerUrl, CheckStateCheckpoints, PostgresEventLogStorage):
    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data: ConfigurableClassData | None = None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data)
        self._engine.dispose()
        self._engine = create_pg_engine(
            postgres_url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8, pool_recycle=3600,
            pool_pre_ping=True,  # the embedded server may have been restarted since a connection was pooled
        )
