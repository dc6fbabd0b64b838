"""2. Backfill through Dagster: one ranged run over every participant and day vs one run per participant vs one run
per day partition."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import dagster as dg

from benchmarks.database import BenchServer, connect, row_count
from benchmarks.days import participant
from benchmarks.report import Section, Table, fmt_int, fmt_ms, fmt_s, log
from benchmarks.sizes import Sizes
from fitbit_assets.defs.datasets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.defs.datasets.factory import heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
from fitbit_assets.domain.roster import write_roster
from fitbit_assets.lib.partitions import range_tags
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.schema import apply_schema


def bench_backfill(server: BenchServer, state: Path, sizes: Sizes) -> Section:
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
    participant_days = len(cohort) * sizes.backfill_days
    strategies = [
        ("one_run", "single-run backfill: **one run** over every participant and day (`range_tags` of all participants)"),
        ("per_participant", "single-run backfill per participant: one ranged run each (`range_tags`)"),
        ("per_day", "one run per day partition, every roster participant (what a backfill without "
                    "`BackfillPolicy.single_run()` launches)"),
    ]
    table = Table(["strategy", "runs launched", "wall time (s)", "per participant-day (ms)", "rows loaded",
                   "time vs one run"])
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
        if name == "one_run":
            requests = [dict(tags=range_tags(ids, first, last))]
        elif name == "per_participant":
            requests = [dict(tags=range_tags(pid, first, last)) for pid in ids]
        else:
            # No participants tag: the run covers every roster participant.
            requests = [dict(partition_key=(first + dt.timedelta(days=d)).isoformat()) for d in range(sizes.backfill_days)]
        with dg.instance_for_test() as instance:
            started = time.perf_counter()
            for request in requests:
                result = dg.materialize(graph, instance=instance, resources=resources, run_config=quiet,
                                        raise_on_error=False, **request)
                if not result.success:
                    raise RuntimeError(f"backfill run failed ({name}, {request})")
            wall = time.perf_counter() - started
            runs = len(instance.get_runs())
        with connect(dsn) as conn:
            rows = row_count(conn, "heart_rate")
        results[name] = (runs, wall, rows)
        shutil.rmtree(work, ignore_errors=True)
    base = results["one_run"][1]
    for name, label in strategies:
        runs, wall, rows = results[name]
        table.add(label, runs, fmt_s(wall), fmt_ms(wall / participant_days), fmt_int(rows), f"{wall / base:.1f}x")
    if len({r[2] for r in results.values()}) != 1:
        raise RuntimeError(f"strategies loaded different row counts: {results}")
    return Section(
        f"2. Backfill: {sizes.backfill_days} days x {len(cohort)} participants through Dagster",
        f"{participant_days} participant-days ({sizes.backfill_days} daily partitions) of `pipeline_job`'s assets "
        "(synthetic CSV generation -> validated Parquet -> "
        "`heart_rate` COPY) plus both asset checks, executed in process (`dg.materialize`, `dg.instance_for_test()`), "
        "each strategy on a fresh database and fresh study folders. Synthetic days have the realistic Fitbit sampling "
        "(~5-15 s at rest), not 1 Hz.",
        [("", table)],
        ["Same rows loaded by every strategy (checked). The difference is Dagster's per-run cost (run storage, "
         "step orchestration, resource setup, schema check on connect) paid once per run."],
    )
