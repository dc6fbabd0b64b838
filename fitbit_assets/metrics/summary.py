"""The metric families in ``make demo`` / ``fitbit-assets summary``: one line per participant."""

from __future__ import annotations

HEADERS = [
    "participant", "days", "resting HR", "zone min/day", "SpO2 nights", "SpO2 %", "daily RMSSD ms",
    "breaths/min", "AZM/day", "steps/day",
]


def metrics_summary_rows(conn) -> list[tuple]:
    from fitbit_assets.warehouse import sql_query

    with conn.cursor() as cur:
        cur.execute(sql_query("metrics_summary"))
        return [tuple("-" if value is None else value for value in row) for row in cur.fetchall()]


def print_metrics_summary() -> None:
    from fitbit_assets.cli import print_table
    from fitbit_assets.definitions import defs

    with defs.resources["warehouse"].connection() as conn:
        rows = metrics_summary_rows(conn)
    print("\nmetric families per participant (means over loaded days; resting HR and zones from the heart-rate "
          "summary, SpO2/RMSSD/breathing rate over main sleeps):")
    print_table(HEADERS, rows)
