"""4. Storage: bytes per heart-rate sample on plain PostgreSQL (the year of section 3) and on a native TimescaleDB
(``fitbit_assets.warehouse.native_timescaledb``), before and after compression."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchmarks.database import bench_sql, connect, execute
from benchmarks.days import DAY_TZ, participant, synthetic_warehouse_frame
from benchmarks.report import Section, Table, fmt_bytes, fmt_int, log
from benchmarks.sizes import Sizes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.days import replace_heart_rate_day, upsert_participant
from fitbit_assets.warehouse.native_timescaledb import TimescaleServer, missing_prerequisite
from fitbit_assets.warehouse.schema import apply_schema

FIRST_DAY = dt.date(2025, 5, 1)


def bench_timescale_storage(state: Path, sizes: Sizes) -> list[tuple]:
    """Storage rows (label, samples, bytes, detail) of the hypertable before and after ``compress_chunk``."""
    reason = missing_prerequisite()
    if reason:
        return [("TimescaleDB", None, None, f"not measured: {reason}")]
    log("4. TimescaleDB storage on a native TimescaleDB server")
    who = participant("ts-001", 777, DAY_TZ, FIRST_DAY)
    days = [LocalDay(FIRST_DAY + dt.timedelta(days=d), DAY_TZ) for d in range(sizes.timescale_days)]
    with TimescaleServer(state / "timescaledb") as server:
        with connect(server.dsn()) as conn:
            backend = apply_schema(conn, "require")
            upsert_participant(conn, who)
            for day in days:
                replace_heart_rate_day(conn, who.participant_id, day, synthetic_warehouse_frame(who, day))
        with connect(server.dsn(), autocommit=True) as conn:
            execute(conn, "ANALYZE heart_rate")
            with conn.cursor() as cur:
                cur.execute(bench_sql("timescale_hypertable_stats"))
                n, before, chunks, version = cur.fetchone()
                cur.execute(bench_sql("timescale_compress_all"))
                cur.execute(bench_sql("timescale_hypertable_stats"))
                after = cur.fetchone()[1]
    assert backend == "timescaledb"
    note = f"TimescaleDB {version} (native), {chunks} daily chunk(s), segmentby participant_id"
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
        f"(native TimescaleDB, {sizes.timescale_days} day(s) of the same kind of synthetic data loaded by the "
        "production COPY), before and after compression.",
        [("", table)],
        ["A row is (participant_id text, ts timestamptz, bpm smallint): 24-byte tuple header + 4-byte line pointer "
         "+ ~20 bytes of data; the PK btree repeats participant_id and ts."],
    )
