"""Dagster's event log on PostgreSQL with pooled connections, for the local instance on the embedded server.

``PostgresEventLogStorage`` opens a new connection for every operation (SQLAlchemy ``NullPool``) so that idle
processes hold none. A run stores a few dozen events per participant-day (one materialization per asset and
partition, one evaluation per check and partition), each costing several connections; on the embedded server a
connection costs a backend fork, which made connecting most of a run's time (benchmarks/RESULTS.md "UI path").
This subclass keeps a small pool per process instead. Everything else is Dagster's own storage.
"""

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, pg_url_from_config


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    def __init__(
        self, postgres_url: str, should_autocreate_tables: bool = True, inst_data: ConfigurableClassData | None = None
    ):
        super().__init__(postgres_url, should_autocreate_tables, inst_data)
        self._engine.dispose()
        self._engine = create_pg_engine(
            postgres_url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8, pool_recycle=3600,
            pool_pre_ping=True,  # the embedded server may have been restarted since the connection was pooled
        )

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> "PooledPostgresEventLogStorage":
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
        )
