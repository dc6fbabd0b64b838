"""Warehouse side of the rollups: refresh the 1-min/1-h/1-day aggregates, compare them with raw rows, and
compute/store daily adherence and the imputed 1-minute series. Both backends, same function names.

The Dagster assets (fitbit_assets/defs/rollups/assets.py) and the TimescaleDB conformance tests call exactly these
functions, so the two backends are compared through the production code path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import psycopg2.extras

from fitbit_assets.domain.adherence import AdherenceParams, DayAdherence, day_adherence, minute_arrays
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query

LEVELS = (("heart_rate_1m", "1 minute"), ("heart_rate_1h", "1 hour"), ("heart_rate_1d", "1 day"))
MEAN_TOLERANCE = 1e-9
Backend = Literal["timescaledb", "postgres"]


@dataclass(frozen=True)
class Window:
    """A half-open UTC window ``[start_utc, end_utc)``."""

    start_utc: pd.Timestamp
    end_utc: pd.Timestamp


def utc_day_window(days: Iterable[LocalDay]) -> Window:
    """The whole UTC days covering the given local days: every 1-min, 1-h and 1-day bucket in it is complete."""
    days = list(days)
    if not days:
        raise ValueError("no local day")
    start = min(day.start_utc for day in days).floor("D")
    end = max(day.end_utc for day in days)
    end = end if end == end.floor("D") else end.floor("D") + pd.Timedelta(days=1)
    return Window(start, end)


def aggregates_backend(conn) -> Backend:
    """``timescaledb`` when heart_rate_1m is a continuous aggregate in this database, else ``postgres``."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass('timescaledb_information.continuous_aggregates') IS NOT NULL"
        )
        if not cur.fetchone()[0]:
            return "postgres"
        cur.execute(
            "SELECT count(*) FROM timescaledb_information.continuous_aggregates WHERE view_name = 'heart_rate_1m'"
        )
        return "timescaledb" if cur.fetchone()[0] else "postgres"


def refresh_heart_rate_aggregates(
    conn, participant_id: str, window: Window, backend: Backend | None = None
) -> Backend:
    """Bring heart_rate_1m/1h/1d up to date for ``window`` (lowest level first).

    TimescaleDB: ``CALL refresh_continuous_aggregate`` per level (autocommit; it re-materializes only what
    raw-row changes invalidated, for every participant), one session at a time (advisory lock). Plain PostgreSQL: delete and re-insert the window
    for this participant in one transaction.
    """
    backend = backend or aggregates_backend(conn)
    params = {"participant_id": participant_id, "start_utc": window.start_utc, "end_utc": window.end_utc}
    if backend == "timescaledb":
        conn.commit()  # autocommit can only be switched outside a transaction
        previous = conn.autocommit
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql_query("heart_rate_aggregate_refresh_lock"))
                try:
                    for view, _ in LEVELS:
                        cur.execute(sql_query("heart_rate_aggregate_refresh_timescaledb"), {**params, "view": view})
                finally:
                    cur.execute(sql_query("heart_rate_aggregate_refresh_unlock"))
        finally:
            conn.autocommit = previous
        return backend
    with transaction(conn) as cur:
        cur.execute(sql_query("heart_rate_aggregates_refresh_postgres"), params)
    return backend


def rollup_from_raw(conn, width: str, participant_id: str, window: Window) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            sql_query("heart_rate_rollup_from_raw"),
            {"width": width, "participant_id": participant_id, "start_utc": window.start_utc, "end_utc": window.end_utc},
        )
        return cur.fetchall()


def aggregate_mismatches_of_windows(conn, windows: Sequence[tuple[str, Window]]) -> list[tuple[int, list[dict]]]:
    """(buckets compared, mismatches) of every level against a recomputation from raw rows, for each
    ``(participant_id, window)``, in the order given: one statement for all of them (a query and a Python comparison
    per participant-day was most of a run's check time)."""
    if not windows:
        return []
    with conn.cursor() as cur:
        cur.execute(
            sql_query("heart_rate_aggregate_mismatches"),
            {
                "participant_ids": [participant_id for participant_id, _ in windows],
                "starts": [window.start_utc for _, window in windows],
                "ends": [window.end_utc for _, window in windows],
                "mean_tolerance": MEAN_TOLERANCE,
            },
        )
        rows = cur.fetchall()
    results = [[0, []] for _ in windows]
    for window_index, level, bucket, compared, *values in rows:
        result = results[window_index - 1]
        if level is None:
            result[0] = compared
            continue
        stored, raw = values[:5], values[5:]
        if stored[0] is None or raw[0] is None:
            result[1].append({"level": level, "bucket": str(bucket), "stored": stored[0] is not None,
                              "raw": raw[0] is not None})
        else:
            result[1].append({"level": level, "bucket": str(bucket), "stored": [str(x) for x in stored],
                              "raw": [str(x) for x in raw]})
    return [(compared, mismatches) for compared, mismatches in results]


def aggregate_mismatches(conn, participant_id: str, window: Window) -> tuple[int, list[dict]]:
    """(buckets compared, mismatches) of one participant's window; see ``aggregate_mismatches_of_windows``."""
    return aggregate_mismatches_of_windows(conn, [(participant_id, window)])[0]


def compute_daily_adherence(
    conn, participant_id: str, day: LocalDay, params: AdherenceParams
) -> DayAdherence:
    """Adherence of one participant-day from heart_rate_1m; upserts daily_adherence and replaces the day's
    heart_rate_1m_imputed rows in one transaction."""
    window = {"participant_id": participant_id, "start_utc": day.start_utc, "end_utc": day.end_utc}
    day_minutes = day.seconds // 60
    with transaction(conn) as cur:
        cur.execute(sql_query("heart_rate_1m_local_day"), window)
        samples, means = minute_arrays(day_minutes, cur.fetchall())
        result, series = day_adherence(samples, means, params)
        cur.execute(
            sql_query("daily_adherence_upsert"),
            {
                "participant_id": participant_id,
                "local_date": day.local_date,
                "timezone": day.timezone,
                **result.to_dict(),
                "worn_minute_min_samples": params.worn_minute_min_samples,
                "valid_day_minutes": params.valid_day_minutes,
                "impute_max_gap_minutes": params.impute_max_gap_minutes,
            },
        )
        cur.execute(sql_query("heart_rate_1m_imputed_delete_day"), window)
        start = day.start_utc.to_pydatetime()
        rows = [
            (participant_id, start + dt.timedelta(minutes=value.minute), value.mean_bpm, value.imputed)
            for value in series
        ]
        if rows:
            psycopg2.extras.execute_values(cur, sql_query("heart_rate_1m_imputed_insert"), rows, page_size=2000)
    return result
