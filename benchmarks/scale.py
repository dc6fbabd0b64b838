"""5. Scale: 1 -> 10 -> 100 participant-days through the project's full load path, and what reads cost then."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from benchmarks.database import (
    BenchServer,
    bench_sql,
    connect,
    execute,
    heart_rate_bytes,
    row_count,
    vacuum_analyze,
    warm_median,
)
from benchmarks.days import DAY_TZ, full_path_load, one_hz_csv, participant
from benchmarks.report import Section, Table, fmt_bytes, fmt_int, fmt_ms, fmt_rate, fmt_s, log, median, timed
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets.warehouse.rollups import Window, rollup_from_raw
from fitbit_assets.warehouse.schema import apply_schema
from fitbit_assets.warehouse.sql_files import sql_query

FIRST_DAY = dt.date(2025, 6, 1)
MAX_PARTICIPANTS = 10


def bench_scale(server: BenchServer, state: Path, sizes: Sizes) -> Section:
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    dsn = server.fresh("bench_scale")
    reps = max(sizes.reps, 3)
    curve = []
    table = Table(["participant-days (1 Hz)", "rows", "load time (s)", "rows/s", "per participant-day (ms)",
                   "1-day dashboard read, 1 min buckets from raw (ms)", "cohort daily summary, all rows (ms)", "table + indexes"])
    with connect(dsn) as conn:
        apply_schema(conn, "off")
        for n_days in sizes.scale:
            log(f"5. scale: {n_days} participant-day(s)")
            execute(conn, bench_sql("truncate_heart_rate"))
            cohort = [participant(f"scale-{i:03d}", i, DAY_TZ, FIRST_DAY) for i in range(min(n_days, MAX_PARTICIPANTS))]
            for who in cohort:
                upsert_participant(conn, who)
            started = time.perf_counter()
            for d in range(n_days // len(cohort)):
                for who in cohort:
                    full_path_load(conn, csv_path, who.participant_id, LocalDay(FIRST_DAY + dt.timedelta(days=d), DAY_TZ))
            load = time.perf_counter() - started
            vacuum_analyze(dsn, "heart_rate")
            rows = row_count(conn, "heart_rate")
            day = LocalDay(FIRST_DAY, DAY_TZ)
            window = Window(day.start_utc, day.end_utc)
            dashboard = [timed(rollup_from_raw, conn, "1 minute", cohort[0].participant_id, window)[0] for _ in range(reps + 1)][1:]
            conn.commit()
            summary, _ = warm_median(conn, sql_query("heart_rate_rows_per_local_day"), None, reps)
            size = heart_rate_bytes(conn)[2]
            dash = median(dashboard)
            curve.append((n_days, load / n_days, dash, summary))
            table.add(n_days, fmt_int(rows), fmt_s(load), fmt_rate(rows / load), fmt_ms(load / n_days),
                      fmt_ms(dash), fmt_ms(summary), fmt_bytes(size))
    return Section(
        "5. Scale: 1 -> 10 -> 100 participant-days",
        "Each size loaded into an empty table through the project's full path (read, convert, validate, atomic "
        f"COPY replace), up to {MAX_PARTICIPANTS} participants x N days, 86,400 rows per participant-day. Queries: a "
        "1-day dashboard read of one participant straight from raw rows (`rollups.rollup_from_raw`, 1-minute buckets), "
        f"and the project's cohort-wide `heart_rate_rows_per_local_day` summary. Query times: median of {reps} warm "
        "repetitions.",
        [("", table)],
        [f"From {curve[0][0]} to {curve[-1][0]} participant-days ({curve[-1][0] // curve[0][0]}x the rows): load cost "
         f"per participant-day x{curve[-1][1] / curve[0][1]:.2f}, one participant's 1-day read x"
         f"{curve[-1][2] / curve[0][2]:.2f} (PK btree range), cohort-wide summary x{curve[-1][3] / curve[0][3]:.1f} "
         "(scans every row)."],
    )
