"""6. TimescaleDB beside plain PostgreSQL, in one run on the same machine: a 1 Hz participant-day through the full
path and the COPY bound, the 1-year dashboard read (continuous aggregates vs rollup tables) and the cohort overview
of many participants x 1 year. The TimescaleDB server is a native one of the embedded wheel
(``fitbit_assets.warehouse.native_timescaledb``); the year loaded there is also section 4's compressed storage."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.database import BenchServer, bench_sql, connect, execute, scalar, vacuum_analyze
from benchmarks.days import DAY, DAY_TZ, full_path_load, one_hz_csv, participant, synthetic_warehouse_frame, warehouse_frame
from benchmarks.queries import YEAR_PARTICIPANT_SEED, year_dataset
from benchmarks.report import Section, Table, fmt_int, fmt_ms, fmt_s, log, median, timed
from benchmarks.sizes import Sizes
from fitbit_assets import settings
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.serving import query
from fitbit_assets.warehouse.days import create_heart_rate_partitions, replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.native_timescaledb import TimescaleServer, missing_prerequisite
from fitbit_assets.warehouse.rollups import Window, refresh_heart_rate_aggregates
from fitbit_assets.warehouse.schema import apply_schema

BACKENDS = ("PostgreSQL", "TimescaleDB")
COHORT_AS_OF_HOUR = 12  # the overview is read at noon UTC of the day after the last one


def bench_backends(server: BenchServer, state: Path, sizes: Sizes) -> tuple[Section, list[tuple]]:
    """The section, and section 4's TimescaleDB storage rows (the year before and after compression)."""
    reason = missing_prerequisite()
    if reason:
        note = f"not measured: {reason}"
        return Section("6. TimescaleDB beside plain PostgreSQL", note, []), [("TimescaleDB", None, None, note)]
    reps = max(sizes.reps, 3)
    with TimescaleServer(state / "timescaledb") as timescale:
        log("6. backends: one 1 Hz participant-day")
        day_rows = load_day_rows(server, timescale, state, reps)
        log(f"6. backends: {sizes.year_days} days of one participant on TimescaleDB")
        plain_year, pid, first, last = year_dataset(server, sizes)
        timescale_year, storage = timescale_year_dataset(timescale, pid, first, last)
        read_rows = dashboard_rows(plain_year, timescale_year, pid, last, sizes, reps)
        log(f"6. backends: cohort overview, {sizes.cohort_participants} participants x {sizes.year_days} days")
        cohort_rows = cohort_overview_rows(server, timescale, sizes, reps)
        version = timescale_version(timescale)
    table = Table(["measurement", "PostgreSQL (embedded, plain layout)", "TimescaleDB (native)", "TimescaleDB / PostgreSQL"])
    for label, plain, hyper, fmt in day_rows + read_rows + cohort_rows:
        table.add(label, fmt(plain), fmt(hyper), f"{hyper / plain:.2f}x")
    section = Section(
        "6. TimescaleDB beside plain PostgreSQL",
        f"The same code on both backends of one PostgreSQL build (the embedded server's, with TimescaleDB {version} "
        "built from source and preloaded): plain PostgreSQL with monthly partitions and rollup tables, TimescaleDB "
        "with the 1-day-chunk hypertable and the hierarchical continuous aggregates. The year is one participant's "
        f"{sizes.year_days} days of synthetic heart rate (the same days as section 3); the cohort is "
        f"{sizes.cohort_participants} participants x {sizes.year_days} days generated on the server (one sample "
        f"every {sizes.cohort_step}, a daily adherence row per day). Median of {reps} warm repetitions.",
        [("", table)],
        ["On a 2-core machine shared with other work while this ran: read ratios, not absolute numbers."],
    )
    return section, storage


def load_day_rows(server: BenchServer, timescale: TimescaleServer, state: Path, reps: int) -> list[tuple]:
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    pid, day = "bench-001", LocalDay(DAY, DAY_TZ)
    frame = warehouse_frame(csv_path, pid, day)
    utc_text = np.datetime_as_string(frame["ts"].dt.tz_localize(None).to_numpy(), unit="s")
    copy_text = "".join(f"{pid},{ts}Z,{bpm}\n" for ts, bpm in zip(utc_text, frame["bpm"].tolist())).encode()
    full, bound = {}, {}
    for backend, dsn in zip(BACKENDS, (server.fresh("bench_backends_day"), timescale.create_database("bench_day"))):
        with connect(dsn) as conn:
            apply_schema(conn, "off" if backend == "PostgreSQL" else "require")
            upsert_participant(conn, participant(pid, 1))
            create_heart_rate_partitions(conn, day.start_utc, day.end_utc)
            full_path_load(conn, csv_path, pid, day)  # warm-up (and the chunks exist)

            def copy_bound():
                with conn.cursor() as cur:
                    cur.copy_expert(bench_sql("backends_copy_bound"), io.BytesIO(copy_text))
                conn.commit()

            full[backend], bound[backend] = [], []
            for _ in range(reps):
                full[backend].append(full_path_load(conn, csv_path, pid, day)["total"])
                execute(conn, bench_sql("truncate_heart_rate"))
                bound[backend].append(timed(copy_bound)[0])
                execute(conn, bench_sql("truncate_heart_rate"))
    n = fmt_int(len(frame))
    return [
        (f"**full path**, one 1 Hz participant-day ({n} rows: read, convert, validate, DELETE + COPY)",
         median(full["PostgreSQL"]), median(full["TimescaleDB"]), fmt_ms_cell),
        (f"COPY bound: the same {n} rows pre-serialized, one `COPY heart_rate` into the empty table",
         median(bound["PostgreSQL"]), median(bound["TimescaleDB"]), fmt_ms_cell),
    ]


def timescale_year_dataset(timescale: TimescaleServer, pid: str, first: dt.date, last: dt.date) -> tuple[str, list[tuple]]:
    """Section 3's year on TimescaleDB through the production loader and refresh, then every chunk compressed; the
    DSN and the storage rows (before and after compression)."""
    dsn = timescale.create_database("bench_year")
    who = participant(pid, YEAR_PARTICIPANT_SEED, DAY_TZ, first)
    days = [LocalDay(first + dt.timedelta(days=d), DAY_TZ) for d in range((last - first).days + 1)]
    with connect(dsn) as conn:
        apply_schema(conn, "require")
        upsert_participant(conn, who)
        for day in days:
            replace_heart_rate_day(conn, pid, day, synthetic_warehouse_frame(who, day))
        refresh_heart_rate_aggregates(conn, pid, Window(days[0].start_utc.floor("D"), days[-1].end_utc.ceil("D")))
    vacuum_analyze(dsn)
    with connect(dsn, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(bench_sql("timescale_hypertable_stats"))
            rows, before, chunks, version = cur.fetchone()
            cur.execute(bench_sql("timescale_compress_all"))
            cur.execute(bench_sql("timescale_hypertable_stats"))
            after = cur.fetchone()[1]
            aggregates = scalar(conn, bench_sql("timescale_aggregate_bytes"))
    vacuum_analyze(dsn)
    note = f"TimescaleDB {version} (native), {chunks} daily chunks, segmentby participant_id, orderby ts DESC"
    storage = [
        (f"TimescaleDB hypertable `heart_rate`, the same year uncompressed ({note})", rows, before, ""),
        ("TimescaleDB hypertable `heart_rate`, after `compress_chunk` on every chunk", rows, after,
         f"{before / after:.1f}x smaller"),
        ("TimescaleDB continuous aggregates `heart_rate_1m/1h/1d` together (per raw sample)", rows, aggregates, ""),
    ]
    return dsn, storage


def dashboard_rows(plain: str, timescale: str, pid: str, last: dt.date, sizes: Sizes, reps: int) -> list[tuple]:
    end = pd.Timestamp(last + dt.timedelta(days=1), tz="UTC").to_pydatetime()
    start = end - dt.timedelta(days=365)
    times = {}
    for backend, dsn in zip(BACKENDS, (plain, timescale)):
        with connect(dsn) as conn:
            def read():
                return query.series(conn, pid, "heart_rate", start, end)

            points = read().points
            times[backend] = median([timed(read)[0] for _ in range(reps)])
            conn.commit()
    return [(f"1-year dashboard read, API `series` auto resolution ({points} daily points; rollup tables vs "
             "continuous aggregates)", times["PostgreSQL"], times["TimescaleDB"], fmt_ms_cell)]


def cohort_overview_rows(server: BenchServer, timescale: TimescaleServer, sizes: Sizes, reps: int) -> list[tuple]:
    last = dt.date(2025, 5, 31)
    first = last - dt.timedelta(days=sizes.year_days - 1)
    start = pd.Timestamp(first, tz="UTC")
    end = pd.Timestamp(last + dt.timedelta(days=1), tz="UTC")
    as_of = (end + pd.Timedelta(hours=COHORT_AS_OF_HOUR)).to_pydatetime()
    cohort = [participant(f"cohort-{i:03d}", i, DAY_TZ, first) for i in range(sizes.cohort_participants)]
    rules = query.status_rules(settings.load())  # read once, as the API does
    build, read, shown = {}, {}, 0
    for backend, dsn in zip(BACKENDS, (server.fresh("bench_backends_cohort"), timescale.create_database("bench_cohort"))):
        with connect(dsn) as conn:
            apply_schema(conn, "off" if backend == "PostgreSQL" else "require")
            for who in cohort:
                upsert_participant(conn, who)

            def build_history():
                create_heart_rate_partitions(conn, start, end)
                execute(conn, bench_sql("backends_cohort_heart_rate"), {"start": start, "end": end, "step": sizes.cohort_step})
                execute(conn, bench_sql("backends_cohort_adherence"), {"first": first, "last": last})
                # TimescaleDB refreshes the window for everyone at once; the rollup tables per participant.
                for who in cohort if backend == "PostgreSQL" else cohort[:1]:
                    refresh_heart_rate_aggregates(conn, who.participant_id, Window(start, end))

            build[backend] = timed(build_history)[0]
        vacuum_analyze(dsn)
        with connect(dsn) as conn:
            shown = len(query.cohort_overview(conn, as_of, rules))
            read[backend] = median([timed(query.cohort_overview, conn, as_of, rules)[0] for _ in range(reps)])
            conn.commit()
    label = f"{sizes.cohort_participants} participants x {sizes.year_days} days"
    return [
        (f"cohort overview, API `cohort_overview` ({label}, {shown} rows)", read["PostgreSQL"], read["TimescaleDB"],
         fmt_ms_cell),
        (f"building that cohort's history on the server: INSERT, daily adherence, aggregates refresh ({label})",
         build["PostgreSQL"], build["TimescaleDB"], fmt_s_cell),
    ]


def timescale_version(timescale: TimescaleServer) -> str:
    with connect(timescale.dsn()) as conn:
        return scalar(conn, "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")


def fmt_ms_cell(seconds: float) -> str:
    return f"{fmt_ms(seconds)} ms"


def fmt_s_cell(seconds: float) -> str:
    return f"{fmt_s(seconds)} s"
