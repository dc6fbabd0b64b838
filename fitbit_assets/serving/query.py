"""Read-only query layer over the warehouse: time series at an automatic resolution, adherence, cohort.

Used by the HTTP API (``fitbit_assets.serving.api``), benchmarks and tests. Every function takes an open psycopg2
connection and only reads; statements live in ``sql/queries/api_*.sql`` and take bound parameters (table
names come from the metric registry below, never from a request, and are quoted with ``psycopg2.sql``).

Resolution ``auto`` picks the finest level whose response holds at most ``max_points`` points:

* ``raw`` is tried only when the range is at most ``max_points`` minutes long, and read with
  ``LIMIT max_points + 1``: if more rows come back the 1-minute level is used. A long range never scans raw
  rows.
* ``1m`` / ``1h`` / ``1d`` are chosen from the number of buckets the range spans (an upper bound of the
  points, whatever the data), read from the rollups ``heart_rate_1m`` / ``_1h`` / ``_1d``.

Another metric plugs in by adding a ``Metric`` to ``METRICS`` with its raw table and rollups.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Optional

from psycopg2 import sql

from fitbit_assets.warehouse.sql_files import sql_query

DEFAULT_MAX_POINTS = 2000
RESOLUTIONS = ("raw", "1m", "1h", "1d")
BUCKET_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}
UTC = dt.timezone.utc


class QueryError(ValueError):
    """A request the layer cannot answer as asked (bad range, too many points): the caller's fault."""


class UnknownParticipant(LookupError):
    pass


@dataclass(frozen=True)
class Metric:
    """Where a metric's samples and rollups live. Rollup tables share the columns of ``heart_rate_1m``:
    participant_id, bucket, samples, min/max/mean of the value (column names given here)."""

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


METRICS: dict[str, Metric] = {
    "heart_rate": Metric(
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


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise QueryError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None


# ------------------------------------------------------------------------------------- resolution (pure)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bucket_floor(value: dt.datetime, seconds: int) -> dt.datetime:
    epoch = int(value.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def bucket_count(start: dt.datetime, end: dt.datetime, resolution: str) -> int:
    """Buckets of ``resolution`` that overlap [start, end): the most points that level can return."""
    seconds = BUCKET_SECONDS[resolution]
    first = bucket_floor(start, seconds)
    return max(0, math.ceil((end - first).total_seconds() / seconds))


def candidate_resolutions(
    start: dt.datetime, end: dt.datetime, max_points: int, available: tuple[str, ...] = RESOLUTIONS
) -> list[str]:
    """Resolutions to try, finest first, for ``auto``. ``raw`` comes first only when the range is at most
    ``max_points`` minutes (its rows are then read with a LIMIT, so a raw read is always bounded); the
    aggregates come in when their bucket count fits. Raises QueryError if not even 1 day buckets fit."""
    if end <= start:
        raise QueryError("end must be after start")
    fitting = [r for r in available if r != "raw" and bucket_count(start, end, r) <= max_points]
    if not fitting:
        coarsest = [r for r in available if r != "raw"][-1]
        raise QueryError(
            f"{bucket_count(start, end, coarsest)} {coarsest} buckets exceed max_points={max_points}: shorten the range"
        )
    if "raw" in available and (end - start).total_seconds() <= max_points * 60:
        return ["raw"] + fitting
    return fitting


def check_explicit_resolution(
    start: dt.datetime, end: dt.datetime, resolution: str, max_points: int, available: tuple[str, ...] = RESOLUTIONS
) -> None:
    if end <= start:
        raise QueryError("end must be after start")
    if resolution not in available:
        raise QueryError(f"resolution {resolution!r} is not available; use one of {', '.join(available)} or auto")
    if resolution == "raw":
        return  # bounded by LIMIT max_points + 1 at read time
    count = bucket_count(start, end, resolution)
    if count > max_points:
        raise QueryError(f"{count} {resolution} buckets exceed max_points={max_points}: use a coarser resolution or auto")


# ------------------------------------------------------------------------------------------- series


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


def require_participant(conn, participant_id: str) -> dict:
    with conn.cursor() as cur:
        cur.execute(sql_query("api_participant"), {"participant_id": participant_id})
        row = cur.fetchone()
        if row is None:
            raise UnknownParticipant(participant_id)
        columns = [c.name for c in cur.description]
    return dict(zip(columns, row))


def last_data_time(conn, participant_id: str, m: Metric) -> Optional[dt.datetime]:
    """End of the participant's last 1-minute bucket (cheap: one backward index probe)."""
    table = m.rollups.get("1m")
    query = sql.SQL(sql_query("api_last_bucket")).format(table=sql.Identifier(table))
    with conn.cursor() as cur:
        cur.execute(query, {"participant_id": participant_id})
        row = cur.fetchone()
    return None if row is None or row[0] is None else row[0] + dt.timedelta(minutes=1)


def _read_raw(conn, m: Metric, participant_id: str, start, end, limit: int) -> list[tuple]:
    query = sql.SQL(sql_query("api_series_raw")).format(
        table=sql.Identifier(m.raw_table), time=sql.Identifier(m.raw_time), value=sql.Identifier(m.raw_value)
    )
    with conn.cursor() as cur:
        cur.execute(query, {"participant_id": participant_id, "start": start, "end": end, "limit": limit})
        return cur.fetchall()


def _read_rollup(conn, m: Metric, resolution: str, participant_id: str, start, end) -> list[tuple]:
    query = sql.SQL(sql_query("api_series_rollup")).format(
        table=sql.Identifier(m.rollups[resolution]),
        mean=sql.Identifier(m.mean_column),
        min=sql.Identifier(m.min_column),
        max=sql.Identifier(m.max_column),
        samples=sql.Identifier(m.samples_column),
    )
    first = bucket_floor(start, BUCKET_SECONDS[resolution])
    with conn.cursor() as cur:
        cur.execute(query, {"participant_id": participant_id, "start": first, "end": end})
        return cur.fetchall()


def _read_imputed_minutes(conn, m: Metric, participant_id: str, start, end) -> list[tuple]:
    query = sql.SQL(sql_query("api_series_imputed_1m")).format(table=sql.Identifier(m.imputed_table))
    with conn.cursor() as cur:
        cur.execute(query, {"participant_id": participant_id, "start": bucket_floor(start, 60), "end": end})
        return cur.fetchall()


def _read_imputed_counts(conn, m: Metric, resolution: str, participant_id: str, start, end) -> dict[float, int]:
    query = sql.SQL(sql_query("api_series_imputed_counts")).format(table=sql.Identifier(m.imputed_table))
    seconds = BUCKET_SECONDS[resolution]
    with conn.cursor() as cur:
        cur.execute(
            query,
            {
                "participant_id": participant_id,
                "start": bucket_floor(start, seconds),
                "end": end,
                "step": dt.timedelta(seconds=seconds),
            },
        )
        return {bucket.timestamp(): int(count) for bucket, count in cur.fetchall()}


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
    m = metric(metric_name)
    if max_points < 1:
        raise QueryError("max_points must be positive")
    start, end = as_utc(start), as_utc(end)
    require_participant(conn, participant_id)
    if imputed and m.imputed_table is None:
        raise QueryError(f"metric {m.name!r} has no imputed series")
    if resolution == "auto":
        candidates = candidate_resolutions(start, end, max_points, m.resolutions)
    else:
        check_explicit_resolution(start, end, resolution, max_points, m.resolutions)
        candidates = [resolution]
    out = Series(participant_id, m.name, m.unit, candidates[0], resolution, start, end, max_points)
    for index, level in enumerate(candidates):
        if level == "raw":
            extra = 0
            rows = _read_raw(conn, m, participant_id, start, end, max_points + 1)
            imputed_rows = []
            if imputed:
                imputed_rows = [r for r in _read_imputed_minutes(conn, m, participant_id, start, end) if r[2]]
                extra = len(imputed_rows)
            if len(rows) + extra > max_points:
                if resolution != "auto":
                    raise QueryError(f"more than max_points={max_points} raw samples: use a coarser resolution or auto")
                continue
            out.resolution = "raw"
            points = [(ts.timestamp(), float(v), False) for ts, v in rows]
            points += [(b.timestamp(), float(v), True) for b, v, _ in imputed_rows]
            points.sort(key=lambda p: p[0])
            out.t = [p[0] for p in points]
            out.value = [p[1] for p in points]
            out.min = [None if p[2] else p[1] for p in points]
            out.max = list(out.min)
            out.samples = [0 if p[2] else 1 for p in points]
            if imputed:
                out.imputed = [p[2] for p in points]
            return out
        out.resolution = level
        if level == "1m" and imputed:
            # Observed minutes from the rollup, imputed minutes from the imputed series, merged by minute.
            points = {
                b.timestamp(): (_num(mean), _num(lo), _num(hi), int(s), False)
                for b, mean, lo, hi, s in _read_rollup(conn, m, level, participant_id, start, end)
            }
            for bucket, value, flag in _read_imputed_minutes(conn, m, participant_id, start, end):
                if flag and bucket.timestamp() not in points:
                    points[bucket.timestamp()] = (float(value), None, None, 0, True)
            for t in sorted(points):
                value, lo, hi, s, flag = points[t]
                out.t.append(t)
                out.value.append(value)
                out.min.append(lo)
                out.max.append(hi)
                out.samples.append(s)
            out.imputed = [points[t][4] for t in out.t]
            return out
        for bucket, mean, lo, hi, s in _read_rollup(conn, m, level, participant_id, start, end):
            out.t.append(bucket.timestamp())
            out.value.append(_num(mean))
            out.min.append(_num(lo))
            out.max.append(_num(hi))
            out.samples.append(int(s))
        if imputed:  # 1h / 1d (1m returned above)
            counts = _read_imputed_counts(conn, m, level, participant_id, start, end)
            out.imputed_minutes = [counts.get(t, 0) for t in out.t]
            out.imputed = [c > 0 for c in out.imputed_minutes]
        return out
    raise AssertionError("unreachable: the last candidate is always an aggregate")  # pragma: no cover


def _num(value) -> Optional[float]:
    return None if value is None else float(value)


# ---------------------------------------------------------------------------------------- adherence


def _rows_as_dicts(cur) -> list[dict]:
    columns = [c.name for c in cur.description]
    return [dict(zip(columns, row)) for row in cur.fetchall()]


def participant_adherence(conn, participant_id: str, start: dt.date, end: dt.date) -> list[dict]:
    """daily_adherence rows of one participant for local dates start..end (inclusive)."""
    if end < start:
        raise QueryError("end must not be before start")
    require_participant(conn, participant_id)
    with conn.cursor() as cur:
        cur.execute(sql_query("api_adherence_participant"), {"participant_id": participant_id, "start": start, "end": end})
        return _rows_as_dicts(cur)


def last_sleep_night(conn, participant_id: str) -> Optional[dt.date]:
    with conn.cursor() as cur:
        cur.execute(sql_query("api_sleep_last_night"), {"participant_id": participant_id})
        return cur.fetchone()[0]


def participant_sleep(conn, participant_id: str, start: dt.date, end: dt.date) -> list[dict]:
    """sleep_daily rows (nightly totals, main sleep) of one participant for dateOfSleep start..end (inclusive)."""
    if end < start:
        raise QueryError("end must not be before start")
    require_participant(conn, participant_id)
    with conn.cursor() as cur:
        cur.execute(sql_query("api_sleep_participant"), {"participant_id": participant_id, "start": start, "end": end})
        return _rows_as_dicts(cur)


def cohort_adherence(conn, start: dt.date, end: dt.date) -> list[dict]:
    """daily_adherence rows of every participant for local dates start..end (inclusive)."""
    if end < start:
        raise QueryError("end must not be before start")
    with conn.cursor() as cur:
        cur.execute(sql_query("api_adherence_range"), {"start": start, "end": end})
        return _rows_as_dicts(cur)


def participants(conn) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql_query("api_participants"))
        return _rows_as_dicts(cur)


# ------------------------------------------------------------------------------------------- cohort

# Flags, most urgent first; the cohort table is sorted by risk (flag rank, then 7-day adherence).
# reconsent_needed first: no data can arrive until the participant consents again (Google Health API accounts).
FLAG_RANK = {"reconsent_needed": 0, "no_data": 1, "not_syncing": 2, "non_adherent": 3, "at_risk": 4, "ok": 5}


@dataclass(frozen=True)
class FlagRules:
    sync_stale_hours: float = 48.0  # no device sync for this long -> not_syncing
    non_adherent_invalid_days: int = 2  # invalid days in a row -> non_adherent
    at_risk_adherence_pct: float = 70.0  # trailing 7-day adherence below -> at_risk


def flag_participant(row: dict, as_of: dt.datetime, rules: FlagRules = FlagRules()) -> tuple[str, str]:
    """(flag, reason) of one cohort row (pure). Uses the latest participant_day_status when present."""
    last_sync, last_data = row.get("last_sync"), row.get("last_data")
    if row.get("consent_state") == "reconsent_needed":
        since = row.get("consent_changed_at")
        return "reconsent_needed", (f"re-consent needed since {since:%Y-%m-%d %H:%M} UTC: " if since else
                                    "re-consent needed: ") + (row.get("consent_reason") or "consent withdrawn")
    if last_data is None and row.get("trailing_7d_adherence_pct") is None:
        return "no_data", "no heart rate loaded yet"
    status = row.get("latest_day_status")
    if status == "not_syncing" or (
        last_sync is not None and (as_of - last_sync).total_seconds() > rules.sync_stale_hours * 3600
    ):
        since = f"last sync {last_sync:%Y-%m-%d %H:%M} UTC" if last_sync else "no sync recorded"
        return "not_syncing", since
    invalid = row.get("consecutive_invalid_days") or 0
    if invalid >= rules.non_adherent_invalid_days or status == "not_wearing":
        return "non_adherent", f"{invalid} invalid day(s) in a row"
    pct = row.get("trailing_7d_adherence_pct")
    if invalid > 0 or (pct is not None and pct < rules.at_risk_adherence_pct):
        return "at_risk", f"7-day adherence {pct:.0f}%" if pct is not None else f"{invalid} invalid day"
    return "ok", ""


def risk_key(row: dict) -> tuple:
    pct = row.get("trailing_7d_adherence_pct")
    return (FLAG_RANK.get(row["flag"], 9), pct if pct is not None else -1.0, row["participant_id"])


def cohort_overview(conn, as_of: Optional[dt.datetime] = None, rules: FlagRules = FlagRules()) -> list[dict]:
    """Per participant: last data, last sync, 7-day adherence, flag; sorted by risk (most urgent first)."""
    as_of = as_utc(as_of or dt.datetime.now(UTC))
    with conn.cursor() as cur:
        cur.execute(sql_query("api_cohort"))
        rows = _rows_as_dicts(cur)
        status = {}
        cur.execute(sql_query("api_relation_exists"), {"name": "participant_day_status"})
        if cur.fetchone()[0]:
            last = (as_of - dt.timedelta(days=1)).date()
            cur.execute(sql_query("api_latest_day_status"), {"first": last - dt.timedelta(days=7), "last": last})
            status = {pid: (day, s) for pid, day, s in cur.fetchall()}
    for row in rows:
        if row["participant_id"] in status:
            row["latest_status_date"], row["latest_day_status"] = status[row["participant_id"]]
        else:
            row["latest_status_date"], row["latest_day_status"] = None, None
        row["flag"], row["flag_reason"] = flag_participant(row, as_of, rules)
    return sorted(rows, key=risk_key)
