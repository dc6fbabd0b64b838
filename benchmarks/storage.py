"""4. Storage: bytes per heart-rate sample on plain PostgreSQL (the year of section 3) and on the TimescaleDB test
server (PGlite WASM), before and after compression."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import psycopg2.extras

from benchmarks.database import bench_sql, connect, execute
from benchmarks.days import DAY_TZ, participant, synthetic_warehouse_frame
from benchmarks.report import Section, Table, fmt_bytes, fmt_int, log
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.schema import apply_schema

FIRST_DAY = dt.date(2025, 5, 1)


def bench_timescale_storage(state: Path, sizes: Sizes) -> list[tuple]:
    """Storage rows (label, samples, bytes, detail) of the hypertable before and after ``compress_chunk``."""
    from fitbit_assets_tests.timescale_server import TimescaleServer, missing_prerequisite

    reason = missing_prerequisite()
    if reason:
        return [("TimescaleDB", None, None, f"not measured: {reason}")]
    log("4. TimescaleDB storage on the PGlite test server")
    who = participant("ts-001", 777, DAY_TZ, FIRST_DAY)
    days = [LocalDay(FIRST_DAY + dt.timedelta(days=d), DAY_TZ) for d in range(sizes.timescale_days)]
    frame = pd.concat([synthetic_warehouse_frame(who, day) for day in days], ignore_index=True)
    rows = list(zip(frame["participant_id"].tolist(), frame["ts"].astype(object).tolist(), frame["bpm"].tolist()))
    try:
        with TimescaleServer(state / "timescale_server.log") as server:
            with connect(server.dsn) as conn:
                backend = apply_schema(conn, "require")
                with conn.cursor() as cur:
                    psycopg2.extras.execute_values(cur, bench_sql("timescale_insert"), rows, page_size=2000)
                conn.commit()
            with connect(server.dsn, autocommit=True) as conn:
                execute(conn, "ANALYZE heart_rate")
                with conn.cursor() as cur:
                    cur.execute(bench_sql("timescale_hypertable_stats"))
                    n, before, chunks, version = cur.fetchone()
                    cur.execute(bench_sql("timescale_compress_all"))
                    cur.execute(bench_sql("timescale_hypertable_stats"))
                    after = cur.fetchone()[1]
    except Exception as exc:  # noqa: BLE001 - the WASM server is a test tool: report it, do not fail the benchmark
        return [("TimescaleDB", None, None, f"not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")]
    assert backend == "timescaledb"
    note = f"TimescaleDB {version} on PGlite (WASM PostgreSQL 17), {chunks} daily chunk(s), segmentby participant_id"
    return [
        (f"TimescaleDB hypertable `heart_rate`, uncompressed ({note})", n, before, ""),
        ("TimescaleDB hypertable `heart_rate`, after `compress_chunk` on every chunk", n, after, f"{before / after:.1f}x smaller"),
    ]


def storage_section(storage_rows: list[tuple], sizes: Sizes) -> Section:
    table = Table(["layout", "samples", "bytes on disk (table + indexes)", "bytes / sample", "detail"])
    for label, rows, size, detail in storage_rows:
        if rows is None:
            table.add(label, "-", "-", "not measured", detail)
        else:
            size = float(size)
            table.add(label, fmt_int(rows), fmt_bytes(size), f"{size / rows:.1f}", detail)
    return Section(
        "4. Storage: bytes per heart-rate sample",
        "`pg_total_relation_size` (plain PostgreSQL, the year of data of section 3) and `hypertable_size` "
        f"(TimescaleDB test server, {sizes.timescale_days} day(s) of the same kind of synthetic data inserted with "
        "INSERTs), before and after compression.",
        [("", table)],
        ["A row is (participant_id text, ts timestamptz, bpm smallint): 24-byte tuple header + 4-byte line pointer "
         "+ ~20 bytes of data; the PK btree repeats participant_id and ts."],
    )
