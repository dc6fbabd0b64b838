"""Benchmarks: load, backfill, query, storage and scale on the embedded PostgreSQL, and TimescaleDB beside it, in one
run.

    python -m benchmarks.run              # full run (< 10 min on 2 cores), writes benchmarks/RESULTS.md
    python -m benchmarks.run --quick      # CI smoke run (< 1 min): same sections and rows, tiny sizes, 1 repetition

Every comparison is measured in the same process against the same server, interleaved repetition by
repetition (the order rotates), and reported as the median: these machines are noisy, so read ratios, not
absolute numbers. State lives in ``--state-dir`` (default ``.state/bench/``): a dedicated embedded PostgreSQL
data dir (never the demo's database), where the year of query data is generated once and reused.
One module per section (``load_day``, ``backfill``, ``queries``, ``storage``, ``scale``, ``backends``, ``layouts``), each
calling the production load and query code; ``ui_path``, ``ui_scale`` and ``staging`` are separate runs with their own
sections.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings

from benchmarks.backends import bench_backends
from benchmarks.backfill import bench_backfill
from benchmarks.database import BenchServer
from benchmarks.layouts import bench_layouts
from benchmarks.load_day import bench_load_day
from benchmarks.queries import bench_queries
from benchmarks.report import (
    Section,
    add_output_arguments,
    keep_sections,
    log,
    machine,
    output_and_state,
    render,
    section_of,
)
from benchmarks.scale import bench_scale
from benchmarks.sizes import FULL, QUICK
from benchmarks.storage import storage_section

# Section keys (for --skip) and the start of each section's title: a skipped section keeps its previous numbers.
SECTIONS = {
    "load": "1. Load",
    "backfill": "2. Backfill",
    "queries": "3. Dashboard queries",
    "storage": "4. Storage",
    "scale": "5. Scale",
    "backends": "6. TimescaleDB beside plain PostgreSQL",
    "layout": "Extra: plain-PostgreSQL layout",
}
SEPARATE_SECTIONS = ("UI path", "UI at study scale", "UI at study scale: before and after", "Export staging", "API load")  # written by other benchmark scripts into the same RESULTS.md: kept as they are


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    add_output_arguments(parser)
    parser.add_argument("--reps", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--skip", action="append", default=[], choices=list(SECTIONS),
                        help="leave this section out (its previous numbers in --out are kept)")
    args = parser.parse_args(argv)
    import dagster as dg

    for category in (dg.PreviewWarning, dg.BetaWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="pandas")
    sizes = QUICK if args.quick else FULL
    if args.reps:
        sizes = dataclasses.replace(sizes, reps=args.reps)
    mode = "quick" if args.quick else "full"
    out, state, temp = output_and_state(args, "bench")
    state.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log(f"mode {mode}, state {state}")
    server = BenchServer(state / "pgdata")
    try:
        measured: dict[str, Section] = {}
        storage_rows: list[tuple] = []
        if "load" not in args.skip:
            measured["load"] = bench_load_day(server, state, sizes)
        if "backfill" not in args.skip:
            measured["backfill"] = bench_backfill(server, state, sizes)
        if "queries" not in args.skip:
            measured["queries"], storage_rows = bench_queries(server, sizes)
        if "scale" not in args.skip:
            measured["scale"] = bench_scale(server, state, sizes)
        if "backends" not in args.skip:
            measured["backends"], timescale_storage = bench_backends(server, state, sizes)
            storage_rows += timescale_storage
        if "storage" not in args.skip:
            measured["storage"] = storage_section(storage_rows, sizes)
        if "layout" not in args.skip:
            measured["layout"] = bench_layouts(server, state, sizes)
        elapsed = time.perf_counter() - started
        previous = out.read_text() if out.exists() else ""
        sections = [measured[key].markdown() if key in measured else section_of(previous, title)
                    for key, title in SECTIONS.items()]
        kept = [title for key, title, markdown in zip(SECTIONS, SECTIONS.values(), sections) if key not in measured and markdown]
        report = render([s for s in sections if s], machine(), server.version(), mode, elapsed, kept)
    finally:
        server.stop()
        if temp is not None:
            temp.cleanup()
    report = keep_sections(out, report, SEPARATE_SECTIONS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    log(f"done in {elapsed:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
