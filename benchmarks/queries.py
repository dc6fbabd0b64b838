"""3. Dashboard queries: the API's own series read (``query.series``, automatic resolution over the rollups) vs the
same buckets computed from raw rows (``rollups.rollup_from_raw``), on a year of one participant's data."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from benchmarks.database import (
    BenchServer,
    bench_sql,
    connect,
    execute,
    heart_rate_bytes,
    row_count,
    scalar,
    vacuum_analyze,
)
from benchmarks.days import DAY_TZ, participant, synthetic_warehouse_frame
from benchmarks.report import Section, Table, fmt_int, fmt_ms, log, median, timed
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.serving import query
from fitbit_assets.warehouse.days import replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.rollups import Window, refresh_heart_rate_aggregates, rollup_from_raw
from fitbit_assets.warehouse.schema import apply_schema

YEAR_DATA_VERSION = "2"  # 2: heart_rate partitioned by UTC month
YEAR_DATABASE = "bench_year"
YEAR_PARTICIPANT_SEED = 4242  # section 6 loads the same year into TimescaleDB
SPANS = (("1 day", 1), ("30 days", 30), ("1 year", 365))


def year_dataset(server: BenchServer, sizes: Sizes) -> tuple[str, str, dt.date, dt.date]:
    """One participant, ``year_days`` days of synthetic heart rate with its rollups, loaded once and reused."""
    pid = "year-001"
    last = dt.date(2025, 5, 31)
    first = last - dt.timedelta(days=sizes.year_days - 1)
    signature = json.dumps({"v": YEAR_DATA_VERSION, "pid": pid, "first": str(first), "last": str(last)})
    if server.exists(YEAR_DATABASE):
        dsn = server.dsn(YEAR_DATABASE)
        with connect(dsn) as conn:
            execute(conn, bench_sql("year_meta_create"))
            if scalar(conn, bench_sql("year_meta_read")) == signature:
                log(f"3. reusing the year of data in database {YEAR_DATABASE} ({first}..{last})")
                apply_schema(conn, "off")  # picks up schema files added since the data was generated
                return dsn, pid, first, last
    log(f"3. generating {sizes.year_days} days of synthetic heart rate for {pid} (once, kept in {YEAR_DATABASE})")
    dsn = server.fresh(YEAR_DATABASE)
    who = participant(pid, YEAR_PARTICIPANT_SEED, DAY_TZ, first)
    days = [LocalDay(first + dt.timedelta(days=d), DAY_TZ) for d in range((last - first).days + 1)]
    with connect(dsn) as conn:
        apply_schema(conn, "off")
        upsert_participant(conn, who)
        for day in days:
            replace_heart_rate_day(conn, pid, day, synthetic_warehouse_frame(who, day))
        window = Window(days[0].start_utc.floor("D"), days[-1].end_utc.ceil("D"))
        refresh_heart_rate_aggregates(conn, pid, window, "postgres")
        execute(conn, bench_sql("year_meta_create"))
        execute(conn, bench_sql("year_meta_write"), {"signature": signature})
    vacuum_analyze(dsn)
    return dsn, pid, first, last


def bench_queries(server: BenchServer, sizes: Sizes) -> tuple[Section, list[tuple]]:
    """The section, and the storage rows of the year's data for section 4."""
    dsn, pid, first, last = year_dataset(server, sizes)
    end = pd.Timestamp(last + dt.timedelta(days=1), tz="UTC")
    table = Table(["dashboard read (one participant)", "auto resolution", "points", "API series read (ms)",
                   "same buckets from raw rows, `date_bin` (ms)", "raw rows aggregated", "speed-up"])
    reps = max(sizes.reps, 3)
    log("3. dashboard queries")
    with connect(dsn) as conn:
        for label, days in SPANS:
            start = end - pd.Timedelta(days=days)
            window = Window(start, end)

            def api_read():
                return query.series(conn, pid, "heart_rate", start.to_pydatetime(), end.to_pydatetime())

            resolution = api_read().resolution
            width = f"{query.BUCKET_SECONDS.get(resolution, 1)} seconds"

            def from_raw():
                return rollup_from_raw(conn, width, pid, window)

            calls = (("api", api_read), ("raw", from_raw))
            for _, call in calls:  # warm-up
                call()
            timings: dict[str, list[float]] = {"api": [], "raw": []}
            for rep in range(reps):
                for key, call in calls[:: 1 if rep % 2 == 0 else -1]:
                    timings[key].append(timed(call)[0])
            conn.commit()
            points, raw_buckets = api_read().points, from_raw()
            if points != len(raw_buckets):
                raise RuntimeError(f"{label}: the API read gave {points} points, raw rows {len(raw_buckets)} buckets")
            scanned = sum(bucket[1] for bucket in raw_buckets)  # samples per bucket
            t_api, t_raw = median(timings["api"]), median(timings["raw"])
            available = min(days, sizes.year_days)
            shown = label if available == days else f"{label} (quick: {available} days of data)"
            table.add(shown, resolution, fmt_int(points), fmt_ms(t_api), fmt_ms(t_raw), fmt_int(scanned), f"{t_raw / t_api:.0f}x")
        rows = row_count(conn, "heart_rate")
        heap, pkey, total = heart_rate_bytes(conn)
        months = scalar(conn, bench_sql("leaf_partitions"), {"rel": "heart_rate"})
        rollup_tables = list(query.SERIES_TABLES["heart_rate"].rollups.values())
        rollup_bytes = scalar(conn, bench_sql("rollup_bytes"), {"tables": rollup_tables})
        conn.commit()
    section = Section(
        "3. Dashboard queries: automatic resolution vs raw rows",
        f"One participant, {fmt_int(rows)} samples over {sizes.year_days} days ({first}..{last}, synthetic, realistic "
        f"Fitbit sampling ~5-15 s at rest), generated once and reused between runs. The read is the API's own: "
        f"`fitbit_assets.serving.query.series` with `resolution=auto` (the finest of raw / 1m / 1h / 1d giving at most "
        f"{query.DEFAULT_MAX_POINTS} points, from `heart_rate_1m/1h/1d` refreshed by "
        "`rollups.refresh_heart_rate_aggregates`). The raw-row side answers the same question (same buckets, "
        "count/sum/min/max/mean) with `rollups.rollup_from_raw` (`date_bin`, TimescaleDB's `time_bucket` "
        f"equivalent on plain PostgreSQL). Median of {reps} warm repetitions, client fetch included.",
        [("", table)],
    )
    storage = [
        (f"PostgreSQL (embedded), table `heart_rate`: heap + PK btree, {months} monthly partitions", rows, total,
         f"heap {heap / rows:.1f} + PK {pkey / rows:.1f}"),
        ("rollups `heart_rate_1m/1h/1d` together (per raw sample)", rows, rollup_bytes, ""),
    ]
    return section, storage
