"""1. Load one participant-day (86,400 rows of 1 Hz heart rate): the project's full path next to other loaders."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import psycopg2
import psycopg2.extras
import sqlalchemy
from psycopg2 import sql

from benchmarks.database import BenchServer, bench_sql, connect, execute, row_count
from benchmarks.days import DAY, DAY_TZ, full_path_load, one_hz_csv, participant, warehouse_frame
from benchmarks.report import Section, Table, fmt_ms, fmt_rate, log, median, timed
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.days import create_heart_rate_partitions, replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.schema import apply_schema


def bench_load_day(server: BenchServer, state: Path, sizes: Sizes) -> Section:
    log("1. load one participant-day")
    dsn = server.fresh("bench_load")
    csv_path = one_hz_csv(state / "one_day_1hz.csv")
    pid, day = "bench-001", LocalDay(DAY, DAY_TZ)
    frame = warehouse_frame(csv_path, pid, day)
    n = len(frame)
    # The lower bound's input: the same rows, already serialized as CSV (participant_id, ts UTC, bpm).
    utc_text = np.datetime_as_string(frame["ts"].dt.tz_localize(None).to_numpy(), unit="s")
    lower_csv = "".join(f"{pid},{ts}Z,{bpm}\n" for ts, bpm in zip(utc_text, frame["bpm"].tolist())).encode()
    engine = sqlalchemy.create_engine("postgresql+psycopg2://", creator=lambda: psycopg2.connect(dsn))
    sample = min(sizes.executemany_sample, n)

    with connect(dsn) as conn:
        apply_schema(conn, "off")
        upsert_participant(conn, participant(pid, 1))
        create_heart_rate_partitions(conn, day.start_utc, day.end_utc)  # loaders (b)-(d) insert directly
        execute(conn, bench_sql("load_lower_bound_table"))

        def truncate(table="heart_rate"):
            execute(conn, sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))

        def lower_bound():
            with conn.cursor() as cur:
                cur.copy_expert(bench_sql("load_lower_bound_copy"), io.BytesIO(lower_csv))
            conn.commit()

        def execute_values():
            rows = list(zip(frame["participant_id"].tolist(), frame["ts"].astype(object).tolist(), frame["bpm"].tolist()))
            with conn.cursor() as cur:
                psycopg2.extras.execute_values(cur, bench_sql("load_execute_values"), rows, page_size=1000)
            conn.commit()

        def executemany():
            part = frame.iloc[:sample]
            rows = list(zip(part["participant_id"].tolist(), part["ts"].astype(object).tolist(), part["bpm"].tolist()))
            with conn.cursor() as cur:
                cur.executemany(bench_sql("load_executemany"), rows)
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
                    assert row_count(conn, "bench_unlogged") == n
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
                assert row_count(conn, "heart_rate") == expected, method
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
        ("serialize COPY text", "`heart_rate_copy`", serialize),
        ("server: DELETE window + COPY + commit", "`replace_heart_rate_day` minus serialization", max(replace - serialize, 0.0)),
    ]:
        profile.add(label, function, fmt_ms(t), f"{100 * t / total:.0f}%")
    profile.add("**total**", "", fmt_ms(total), "100%")
    return Section(
        "1. Load one participant-day (86,400 rows of 1 Hz heart rate)",
        f"Participant `{pid}`, local day {DAY} in {DAY_TZ}; one CSV file of `time,value` at 1 Hz. Loaders (b)-(d) start "
        "from the same validated in-memory frame (their Python-side row conversion is included) and write the "
        "project's `heart_rate` table, emptied before each repetition; (a) copies the same rows, already serialized "
        f"as CSV, into an unlogged table without any index. Median of {sizes.reps} interleaved repetition(s).",
        [("", table), ("Where the time of the full path goes (same repetitions):", profile)],
    )
