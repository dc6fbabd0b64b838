"""The tables ``fitbit-assets demo`` / ``summary`` print: rows per participant-day, adherence, the coordinator
status of each participant (as on the dashboard's cohort page), metric families, nightly sleep.

Each ``*_rows`` function runs one named query from ``sql/queries/`` on an open connection (tests call them);
the ``print_*`` functions format them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from fitbit_assets.domain.coordinator_status import status_sentence
from fitbit_assets.serving.query.cohort import cohort_overview
from fitbit_assets.warehouse.database import Warehouse
from fitbit_assets.warehouse.sql_files import sql_query

if TYPE_CHECKING:  # the CLI passes the resolved resource; serving does not import the Dagster definitions
    from fitbit_assets.defs.adherence.assets import AdherenceResource

ADHERENCE_HEADERS = [
    "participant", "days", "valid", "mean_wear_min", "adherence_%", "longest_gap_min", "imputed_min",
    "trailing_7d_%", "invalid_in_a_row",
]
METRICS_HEADERS = [
    "participant", "days", "resting HR", "zone min/day", "SpO2 nights", "SpO2 %", "daily RMSSD ms",
    "breaths/min", "AZM/day", "steps/day",
]

SLEEP_HEADERS = ["participant", "nights", "with sleep", "mean min asleep", "mean min in bed", "last nights (min asleep)"]


def print_table(headers: list[str], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)] if rows else list(map(len, headers))
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def _rows(conn, query_name: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql_query(query_name))
        return cur.fetchall()


def metrics_summary_rows(conn) -> list[tuple]:
    return [tuple("-" if value is None else value for value in row) for row in _rows(conn, "metrics_summary")]


def sleep_summary_rows(conn) -> list[tuple]:
    return [tuple("-" if value is None else value for value in row) for row in _rows(conn, "sleep_nightly_summary")]


def print_rows_per_day(warehouse: Warehouse) -> None:
    with warehouse.connection() as conn:
        rows = _rows(conn, "heart_rate_rows_per_local_day")
    print(f"\nheart_rate rows per participant-day ({warehouse.backend} backend):")
    print_table(["participant", "local_date", "samples", "min", "mean", "max"], rows)


def print_adherence_summary(warehouse: Warehouse, adherence: AdherenceResource) -> None:
    with warehouse.connection() as conn:
        rows = _rows(conn, "daily_adherence_summary")
    print(
        f"\nwear-time adherence per participant (worn minute >= {adherence.worn_minute_min_samples} sample(s), "
        f"valid day >= {adherence.valid_day_minutes} worn min, gaps <= {adherence.impute_max_gap_minutes} min imputed):"
    )
    print_table(ADHERENCE_HEADERS, rows)


def coordinator_status_lines(conn, as_of: dt.datetime | None = None) -> list[str]:
    """One line per participant, most urgent first: the dashboard's status words, since, evidence and action."""
    return [
        f"{row['participant_id']}  {status_sentence(row['status'], row['since'], row['evidence'], row['action'])}"
        for row in cohort_overview(conn, as_of)
    ]


def print_coordinator_status(warehouse: Warehouse, as_of: dt.datetime | None = None) -> None:
    with warehouse.connection() as conn:
        lines = coordinator_status_lines(conn, as_of)
    when = f"as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "now"
    print(f"\ncoordinator status per participant {when}, most urgent first (as on the dashboard's cohort page; "
          "times in the participant's zone):")
    for line in lines:
        print(line)


def print_metrics_summary(warehouse: Warehouse) -> None:
    with warehouse.connection() as conn:
        rows = metrics_summary_rows(conn)
    print("\nmetric families per participant (means over loaded days; resting HR and zones from the heart-rate "
          "summary, SpO2/RMSSD/breathing rate over main sleeps):")
    print_table(METRICS_HEADERS, rows)


def print_sleep_summary(warehouse: Warehouse) -> None:
    with warehouse.connection() as conn:
        rows = sleep_summary_rows(conn)
    print("\nnightly sleep per participant (minutes asleep per dateOfSleep, the date a sleep ends on; means over "
          "nights with sleep; 0 = no sleep recorded):")
    print_table(SLEEP_HEADERS, rows)


def print_warehouse_summary(
    warehouse: Warehouse, adherence: AdherenceResource, as_of: dt.datetime | None = None
) -> None:
    """All the tables, from the code location's (resolved) resources; the coordinator status at ``as_of`` (now)."""
    print_rows_per_day(warehouse)
    print_adherence_summary(warehouse, adherence)
    print_coordinator_status(warehouse, as_of)
    print_metrics_summary(warehouse)
    print_sleep_summary(warehouse)
