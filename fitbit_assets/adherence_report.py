"""The per-participant adherence table printed by ``fitbit-assets demo`` / ``summary``."""

from __future__ import annotations


def adherence_rows(conn) -> list[tuple]:
    from fitbit_assets.warehouse import sql_query

    with conn.cursor() as cur:
        cur.execute(sql_query("daily_adherence_summary"))
        return cur.fetchall()


def print_adherence_summary(warehouse=None) -> list[tuple]:
    from fitbit_assets.cli import print_table

    if warehouse is None:
        from fitbit_assets.definitions import defs

        warehouse = defs.resources["warehouse"]
    adherence = None
    try:
        from fitbit_assets.definitions import defs

        adherence = defs.resources.get("adherence")
    except Exception:  # noqa: BLE001 - the thresholds line is informative only
        pass
    with warehouse.connection() as conn:
        rows = adherence_rows(conn)
    thresholds = ""
    if adherence is not None:
        thresholds = (
            f" (worn minute >= {adherence.worn_minute_min_samples} sample(s), valid day >= "
            f"{adherence.valid_day_minutes} worn min, gaps <= {adherence.impute_max_gap_minutes} min imputed)"
        )
    print(f"\nwear-time adherence per participant{thresholds}:")
    print_table(
        [
            "participant",
            "days",
            "valid",
            "mean_wear_min",
            "adherence_%",
            "longest_gap_min",
            "imputed_min",
            "trailing_7d_%",
            "invalid_in_a_row",
            "status",
        ],
        rows,
    )
    flagged = [row[0] for row in rows if row[-1] != "ok"]
    if flagged:
        print(f"non-adherent (flagged by check daily_adherence_valid_day, WARN): {', '.join(flagged)}")
    return rows
