"""Extra: plain-PostgreSQL layouts of ``heart_rate`` (plain, BRIN, by UTC day, by UTC month = the project's): load,
pruning and planning cost, also with years of partitions."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd
from psycopg2 import sql

from benchmarks.database import (
    BenchServer,
    bench_sql,
    connect,
    execute,
    heart_rate_bytes,
    plan_node,
    planning_seconds,
    relation_locks,
    scalar,
    vacuum_analyze,
    warm_median,
)
from benchmarks.days import DAY_TZ, one_hz_csv, participant, warehouse_frame
from benchmarks.report import Section, Table, fmt_bytes, fmt_int, fmt_ms, fmt_rate, fmt_s, log, median
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.days import create_heart_rate_partitions, replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.schema import apply_schema
from fitbit_assets.warehouse.sql_files import sql_query

# The month layout is the project's own schema (sql/postgres/010_heart_rate.sql, months created by the loader); the
# others are built from benchmarks/sql/layout_*.sql with the same columns.
LAYOUTS = {
    "PK btree only (plain table)": "plain",
    "PK + BRIN(ts) (plain table; `sql/postgres` before partitioning)": "brin",
    "partitioned by UTC day (PK per partition)": "day",
    "**partitioned by UTC month (PK per partition): current `sql/postgres`**": "month",
}


def create_layout(conn, layout: str) -> None:
    execute(conn, bench_sql("layout_drop_heart_rate"))
    if layout == "month":
        apply_schema(conn, "off")
        return
    execute(conn, bench_sql("layout_heart_rate_by_day" if layout == "day" else "layout_heart_rate_plain"))
    if layout == "brin":
        execute(conn, bench_sql("layout_brin_index"))


def create_day_partitions(conn, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """One partition per UTC day in [first, last), created ahead (not timed with the load)."""
    day = first
    while day < last:
        following = day + pd.Timedelta(days=1)
        statement = sql.SQL(bench_sql("layout_day_partition")).format(partition=sql.Identifier(f"heart_rate_{day:%Y%m%d}"))
        execute(conn, statement, {"start": day.to_pydatetime(), "end": following.to_pydatetime()})
        day = following


def bench_layouts(server: BenchServer, state: Path, sizes: Sizes) -> Section:
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    cohort = [f"layout-{i:03d}" for i in range(sizes.layout_participants)]
    # The middle local day, 2025-05-31 in New York, ends on 2025-06-01 04:00 UTC: it straddles two UTC months.
    crossing = dt.date(2025, 5, 31)
    days = [LocalDay(crossing + dt.timedelta(days=d - sizes.layout_days // 2), DAY_TZ) for d in range(sizes.layout_days)]
    mid = next(day for day in days if day.local_date == crossing)
    frames = {(pid, day): warehouse_frame(csv_path, pid, day) for day in days for pid in cohort}
    n_rows = sum(len(f) for f in frames.values())
    reps = max(sizes.reps, 3)
    hour = {"start": (mid.start_utc + pd.Timedelta(hours=12)).to_pydatetime(), "end": (mid.start_utc + pd.Timedelta(hours=13)).to_pydatetime()}
    cohort_hour = bench_sql("cohort_hour")
    one_day = {"participant_id": cohort[0], "start_utc": mid.start_utc.to_pydatetime(), "end_utc": mid.end_utc.to_pydatetime(),
               "width": "1 minute"}
    participant_day = sql_query("heart_rate_rollup_from_raw")
    summary = sql_query("heart_rate_rows_per_local_day")  # cohort-wide, every row: nothing to prune
    data_first = days[0].start_utc.floor("D")
    data_last = days[-1].end_utc.ceil("D")
    history_end = pd.Timestamp(dt.date(2025, 7, 1), tz="UTC")  # the data ends in June 2025
    history_start = history_end - pd.DateOffset(months=sizes.layout_history_months)

    measured: dict[str, dict[str, list]] = {name: {} for name in LAYOUTS}
    answers: dict[str, set[str]] = {"hour": set(), "day": set()}
    history = Table(["layout", "partitions", "planning, 1-hour cohort query (ms)", "1-hour cohort query (ms)",
                     "planning, cohort daily summary over every partition (ms)", "cohort daily summary (ms)",
                     "relation locks taken by that plan"])
    dsn = server.fresh("bench_layout")
    with connect(dsn) as conn:
        apply_schema(conn, "off")  # the tables replace_heart_rate_day also writes; heart_rate is swapped below
        for participant_id in cohort:
            upsert_participant(conn, participant(participant_id, 1, DAY_TZ, days[0].local_date))
        for round_ in range(sizes.layout_rounds):
            names = list(LAYOUTS) if round_ % 2 == 0 else list(reversed(LAYOUTS))  # alternate the order
            for name in names:
                layout = LAYOUTS[name]
                log(f"extra: layout {layout} (round {round_ + 1}/{sizes.layout_rounds})")
                create_layout(conn, layout)
                if layout == "day":
                    create_day_partitions(conn, data_first, data_last)
                started = time.perf_counter()
                for day in days:  # as the daily schedule loads: each day, every participant
                    for pid in cohort:
                        replace_heart_rate_day(conn, pid, day, frames[(pid, day)])
                load = time.perf_counter() - started
                vacuum_analyze(dsn, "heart_rate")
                t_hour, hour_result = warm_median(conn, cohort_hour, hour, reps)
                t_day, day_result = warm_median(conn, participant_day, one_day, reps)
                answers["hour"].add(str(hour_result))
                answers["day"].add(str(day_result))
                results = measured[name]
                for key, value in (
                    ("load", load), ("hour", t_hour), ("day", t_day),
                    ("plan_hour", median([planning_seconds(conn, cohort_hour, hour) for _ in range(reps)])),
                    ("plan_day", median([planning_seconds(conn, participant_day, one_day) for _ in range(reps)])),
                ):
                    results.setdefault(key, []).append(value)
                results["plan"] = [plan_node(conn, cohort_hour, hour)]
                results["size"] = [heart_rate_bytes(conn)[2]]
                conn.commit()
                if layout in ("day", "month") and round_ == sizes.layout_rounds - 1:
                    log(f"extra: layout {layout} with {sizes.layout_history_months} months of (empty) partitions")
                    if layout == "day":
                        create_day_partitions(conn, history_start, history_end)
                    else:
                        create_heart_rate_partitions(conn, history_start, history_end)
                    vacuum_analyze(dsn, "heart_rate")
                    n_partitions = scalar(conn, bench_sql("leaf_partitions"), {"rel": "heart_rate"})
                    conn.commit()
                    plan_hour = median([planning_seconds(conn, cohort_hour, hour) for _ in range(reps)])
                    t_hour_history, _ = warm_median(conn, cohort_hour, hour, reps)
                    plan_summary = median([planning_seconds(conn, summary) for _ in range(reps)])
                    t_summary, _ = warm_median(conn, summary, None, reps)
                    history.add(name, fmt_int(n_partitions), fmt_ms(plan_hour), fmt_ms(t_hour_history),
                                fmt_ms(plan_summary), fmt_ms(t_summary), fmt_int(relation_locks(conn, summary)))
    if len(answers["hour"]) != 1 or len(answers["day"]) != 1:
        raise RuntimeError(f"layouts answered the queries differently: {answers}")
    table = Table(["layout", "load time (s)", "rows/s", "cohort-wide 1-hour query (ms)",
                   "one participant's local day, 1-min buckets from raw (ms)", "planning: 1-hour / 1-day query (ms)",
                   "plan of the 1-hour query", "table + indexes"])
    for name, results in measured.items():
        load = median(results["load"])
        table.add(name, fmt_s(load), fmt_rate(n_rows / load), fmt_ms(median(results["hour"])), fmt_ms(median(results["day"])),
                  f"{fmt_ms(median(results['plan_hour']))} / {fmt_ms(median(results['plan_day']))}", results["plan"][0],
                  fmt_bytes(results["size"][0]))
    return Section(
        "Extra: plain-PostgreSQL layout of `heart_rate`",
        f"{len(cohort)} participants x {len(days)} local days ({days[0].local_date}..{days[-1].local_date}, {DAY_TZ}) "
        f"x 86,400 rows = {fmt_int(n_rows)} rows loaded day by day with `replace_heart_rate_day` (DELETE window + COPY "
        "per participant-day; for the month layout this includes creating its partitions on demand, the day "
        f"layout's partitions are created ahead). Load: median of {sizes.layout_rounds} round(s), layouts in "
        "alternating order. Queries: a cohort-wide 1-hour range (all participants, no participant filter) and one "
        f"participant's local day {mid.local_date}, which spans two UTC months and two UTC days "
        f"(`heart_rate_rollup_from_raw`, 1-minute buckets); median of {reps} warm repetitions; planning time "
        "from `EXPLAIN (SUMMARY)`.",
        [("", table),
         (f"The same data with {sizes.layout_history_months} months of partitions (the extra ones empty), as after "
          "years of a study: what the number of partitions costs. The cohort daily summary "
          "(`heart_rate_rows_per_local_day`) reads every partition; a query planned over N partitions locks each "
          "of them and its index until the end of its transaction (the shared lock table holds "
          "`max_locks_per_transaction` x `max_connections`, 64 x 100 by default).", history)],
        ["Every layout gave the same answers to both queries (checked)."],
    )
