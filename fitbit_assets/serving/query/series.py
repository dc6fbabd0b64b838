"""A participant's time series in [start, end) with at most ``max_points`` points, at the resolution
``resolution.py`` picks: raw samples, or the 1 min / 1 h / 1 day rollups; optionally with imputed minutes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from psycopg2 import sql

from fitbit_assets.serving.query.errors import QueryError
from fitbit_assets.serving.query.participants import require_participant
from fitbit_assets.serving.query.resolution import (
    BUCKET_SECONDS,
    DEFAULT_MAX_POINTS,
    as_utc,
    bucket_floor,
    candidate_resolutions,
    check_explicit_resolution,
)
from fitbit_assets.serving.query.series_tables import SeriesTables, series_tables
from fitbit_assets.warehouse.sql_files import sql_query


@dataclass
class Series:
    participant_id: str
    metric: str
    unit: str
    resolution: str
    requested_resolution: str
    start: dt.datetime
    end: dt.datetime
    max_points: int
    t: list[float] = field(default_factory=list)  # bucket start / sample time, Unix seconds (UTC)
    value: list[Optional[float]] = field(default_factory=list)  # sample, or mean of the bucket
    min: list[Optional[float]] = field(default_factory=list)
    max: list[Optional[float]] = field(default_factory=list)
    samples: list[Optional[int]] = field(default_factory=list)
    imputed: Optional[list[bool]] = None  # per point: the value is (or includes) an imputed minute
    imputed_minutes: Optional[list[int]] = None  # per point, at 1h/1d: imputed minutes inside the bucket

    @property
    def points(self) -> int:
        return len(self.t)

    def append(self, t: float, value, lo, hi, samples) -> None:
        self.t.append(t)
        self.value.append(value)
        self.min.append(lo)
        self.max.append(hi)
        self.samples.append(samples)


def last_data_time(conn, participant_id: str, tables: SeriesTables) -> Optional[dt.datetime]:
    """End of the participant's last 1-minute bucket (cheap: one backward index probe)."""
    query = sql.SQL(sql_query("api_last_bucket")).format(table=sql.Identifier(tables.rollups.get("1m")))
    with conn.cursor() as cur:
        cur.execute(query, {"participant_id": participant_id})
        row = cur.fetchone()
    return None if row is None or row[0] is None else row[0] + dt.timedelta(minutes=1)


@dataclass(frozen=True)
class _Reads:
    """The statements one series request runs, all on the same participant and [start, end)."""

    conn: object
    tables: SeriesTables
    participant_id: str
    start: dt.datetime
    end: dt.datetime

    def _fetch(self, query: sql.Composable, **params) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(query, {"participant_id": self.participant_id, "end": self.end, **params})
            return cur.fetchall()

    def raw(self, limit: int) -> list[tuple]:
        t = self.tables
        query = sql.SQL(sql_query("api_series_raw")).format(
            table=sql.Identifier(t.raw_table), time=sql.Identifier(t.raw_time), value=sql.Identifier(t.raw_value)
        )
        return self._fetch(query, start=self.start, limit=limit)

    def rollup(self, resolution: str) -> list[tuple]:
        t = self.tables
        query = sql.SQL(sql_query("api_series_rollup")).format(
            table=sql.Identifier(t.rollups[resolution]),
            mean=sql.Identifier(t.mean_column),
            min=sql.Identifier(t.min_column),
            max=sql.Identifier(t.max_column),
            samples=sql.Identifier(t.samples_column),
        )
        return self._fetch(query, start=bucket_floor(self.start, BUCKET_SECONDS[resolution]))

    def imputed_minutes(self) -> list[tuple]:
        """(minute, value, imputed) rows of the imputed 1-minute series."""
        query = sql.SQL(sql_query("api_series_imputed_1m")).format(table=sql.Identifier(self.tables.imputed_table))
        return self._fetch(query, start=bucket_floor(self.start, 60))

    def imputed_only(self, limit: int) -> list[tuple]:
        """At most ``limit`` imputed (minute, value, True) rows: what raw samples are merged with."""
        query = sql.SQL(sql_query("api_series_imputed_flagged")).format(table=sql.Identifier(self.tables.imputed_table))
        return self._fetch(query, start=bucket_floor(self.start, 60), limit=limit)

    def imputed_counts(self, resolution: str) -> dict[float, int]:
        """Bucket start (Unix seconds) -> imputed minutes inside that bucket."""
        query = sql.SQL(sql_query("api_series_imputed_counts")).format(table=sql.Identifier(self.tables.imputed_table))
        seconds = BUCKET_SECONDS[resolution]
        rows = self._fetch(query, start=bucket_floor(self.start, seconds), step=dt.timedelta(seconds=seconds))
        return {bucket.timestamp(): int(count) for bucket, count in rows}


def series(
    conn,
    participant_id: str,
    metric_name: str,
    start: dt.datetime,
    end: dt.datetime,
    resolution: str = "auto",
    max_points: int = DEFAULT_MAX_POINTS,
    imputed: bool = False,
) -> Series:
    """The participant's series in [start, end) with at most ``max_points`` points.

    ``imputed=True`` adds flags from the imputed 1-minute series (``heart_rate_1m_imputed``): at ``1m`` the
    imputed minutes are returned as points with ``imputed=True`` (observed minutes as they are); at ``raw``
    the imputed minutes are merged between the samples; at ``1h``/``1d`` each bucket reports how many of
    its minutes were imputed (``imputed_minutes``) and ``imputed`` is true when any was.
    """
    tables = series_tables(metric_name)
    if max_points < 1:
        raise QueryError("max_points must be positive")
    start, end = as_utc(start), as_utc(end)
    require_participant(conn, participant_id)
    if imputed and tables.imputed_table is None:
        raise QueryError(f"metric {tables.name!r} has no imputed series")
    if resolution == "auto":
        candidates = candidate_resolutions(start, end, max_points, tables.resolutions)
    else:
        check_explicit_resolution(start, end, resolution, max_points, tables.resolutions)
        candidates = [resolution]
    reads = _Reads(conn, tables, participant_id, start, end)
    out = Series(participant_id, tables.name, tables.unit, candidates[0], resolution, start, end, max_points)
    if candidates[0] == "raw":
        if _fill_raw(out, reads, imputed):
            return out
        if resolution != "auto":
            raise QueryError(f"more than max_points={max_points} raw samples: use a coarser resolution or auto")
        candidates = candidates[1:]  # auto: a range this short always has a fitting aggregate after raw
    out.resolution = candidates[0]
    if out.resolution == "1m" and imputed:
        _fill_minutes_with_imputed(out, reads)
    else:
        _fill_buckets(out, reads, imputed)
    return out


def _fill_raw(out: Series, reads: _Reads, imputed: bool) -> bool:
    """Samples (and imputed minutes) merged in time order; False when they exceed ``max_points``."""
    rows = reads.raw(out.max_points + 1)
    imputed_rows = reads.imputed_only(out.max_points + 1) if imputed else []
    if len(rows) + len(imputed_rows) > out.max_points:
        return False
    points = [(ts.timestamp(), float(v), False) for ts, v in rows]
    points += [(b.timestamp(), float(v), True) for b, v, _ in imputed_rows]
    points.sort(key=lambda p: p[0])
    for t, value, flag in points:
        out.append(t, value, None if flag else value, None if flag else value, 0 if flag else 1)
    if imputed:
        out.imputed = [flag for _, _, flag in points]
    return True


def _fill_minutes_with_imputed(out: Series, reads: _Reads) -> None:
    """Observed minutes from the rollup, imputed minutes from the imputed series, merged by minute."""
    points = {
        b.timestamp(): (_num(mean), _num(lo), _num(hi), int(s), False)
        for b, mean, lo, hi, s in reads.rollup("1m")
    }
    for bucket, value, flag in reads.imputed_minutes():
        if flag and bucket.timestamp() not in points:
            points[bucket.timestamp()] = (float(value), None, None, 0, True)
    for t in sorted(points):
        out.append(t, *points[t][:4])
    out.imputed = [points[t][4] for t in out.t]


def _fill_buckets(out: Series, reads: _Reads, imputed: bool) -> None:
    for bucket, mean, lo, hi, s in reads.rollup(out.resolution):
        out.append(bucket.timestamp(), _num(mean), _num(lo), _num(hi), int(s))
    if imputed:  # 1h / 1d: how many minutes of each bucket were imputed
        counts = reads.imputed_counts(out.resolution)
        out.imputed_minutes = [counts.get(t, 0) for t in out.t]
        out.imputed = [c > 0 for c in out.imputed_minutes]


def _num(value) -> Optional[float]:
    return None if value is None else float(value)
