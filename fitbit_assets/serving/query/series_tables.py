"""Where each metric's series lives: its raw table, its rollups and their columns.

Named ``SeriesTables`` (not "metric") because ``domain/metrics`` already holds the metric families the pipeline
loads. Table and column names come only from this registry, never from a request, and are quoted with
``psycopg2.sql``. Another metric plugs in by adding its ``SeriesTables`` to ``SERIES_TABLES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from fitbit_assets.serving.query.errors import QueryError
from fitbit_assets.serving.query.resolution import RESOLUTIONS


@dataclass(frozen=True)
class SeriesTables:
    """Rollup tables share the columns of ``heart_rate_1m``: participant_id, bucket, samples, min/max/mean of
    the value (column names given here)."""

    name: str
    unit: str
    raw_table: str
    raw_time: str
    raw_value: str
    rollups: dict[str, str]
    mean_column: str
    min_column: str
    max_column: str
    samples_column: str = "samples"
    imputed_table: Optional[str] = None  # 1-minute series with an ``imputed`` flag, or None

    @property
    def resolutions(self) -> tuple[str, ...]:
        return ("raw",) + tuple(r for r in RESOLUTIONS[1:] if r in self.rollups)


SERIES_TABLES: dict[str, SeriesTables] = {
    "heart_rate": SeriesTables(
        name="heart_rate",
        unit="bpm",
        raw_table="heart_rate",
        raw_time="ts",
        raw_value="bpm",
        rollups={"1m": "heart_rate_1m", "1h": "heart_rate_1h", "1d": "heart_rate_1d"},
        mean_column="mean_bpm",
        min_column="min_bpm",
        max_column="max_bpm",
        imputed_table="heart_rate_1m_imputed",
    ),
}


def series_tables(metric: str) -> SeriesTables:
    try:
        return SERIES_TABLES[metric]
    except KeyError:
        raise QueryError(f"unknown metric {metric!r}; known: {', '.join(sorted(SERIES_TABLES))}") from None
