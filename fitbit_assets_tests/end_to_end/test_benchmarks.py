"""The benchmark script still runs end to end (``--quick``: tiny sizes, one repetition; no timing asserts)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SECTIONS = [
    "## 1. Load one participant-day",
    "## 2. Backfill",
    "## 3. Dashboard queries",
    "## 4. Storage",
    "## 5. Scale",
    "## 6. TimescaleDB beside plain PostgreSQL",
    "## Extra: plain-PostgreSQL layout",
]
ROWS = [
    # 1. loaders and the profile of the full path
    "(a) lower bound: plain `COPY`",
    "**project full path**",
    "project full path, reload",
    "project load step only",
    "(b) `psycopg2.extras.execute_values`",
    "(c) `executemany` of one-row INSERTs",
    "(d) `pandas.DataFrame.to_sql`",
    "| read CSV |",
    "| local time -> UTC |",
    "| validate (Pandera) |",
    "| serialize COPY text |",
    "| server: DELETE window + COPY + commit |",
    # 2. backfill strategies
    "**one run** over every participant and day",
    "one ranged run each",
    "one run per day partition",
    # 3. dashboard spans
    "| 1 day |",
    "| 30 days",
    "| 1 year",
    # 4. storage
    "PostgreSQL (embedded), table `heart_rate`",
    "heart_rate_1m/1h/1d` together",
    "TimescaleDB hypertable `heart_rate`, after `compress_chunk` on every chunk",
    # 6. both backends
    "**full path**, one 1 Hz participant-day",
    "COPY bound: the same",
    "1-year dashboard read",
    "cohort overview, API `cohort_overview` (4 participants x 20 days",
    # extra: layouts
    "| PK btree only (plain table) |",
    "| PK + BRIN(ts)",
    "| partitioned by UTC day",
    "| **partitioned by UTC month",
    "planning, cohort daily summary over every partition",
]


@pytest.mark.integration
def test_quick_benchmark_writes_every_section_and_row(tmp_path):
    out = tmp_path / "RESULTS.md"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out), "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = out.read_text()
    assert report in proc.stdout  # printed as well as written
    assert "Machine: " in report and "PostgreSQL " in report and "mode **quick**" in report
    for heading in SECTIONS:
        assert heading in report, heading
    for row in ROWS:
        assert row in report, row
    scale_rows = [line for line in report.split("## 5. Scale")[1].split("##")[0].splitlines() if line.startswith("| ")]
    assert len(scale_rows) == 1 + 3  # header + three sizes
    assert "nan" not in report.lower().replace("nanoseconds", "")


@pytest.mark.integration
def test_quick_staging_benchmark_prints_its_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\n## 1. Load one participant-day\n\nkept\n")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.staging", "--quick", "--out", str(out), "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = out.read_text()
    assert report.startswith("# Benchmarks\n\n## 1. Load one participant-day\n\nkept\n")
    section = report.split("## Export staging", 1)[1]
    assert section.strip() in proc.stdout and "Mode **quick**" in section
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 4 * 2  # four cases per size
    # The ledger makes the tick read only the new export; without it, every export is read again.
    assert [r[2] for r in rows if "with the ledger" in r[1]] == ["1", "1"]
    assert [r[2] for r in rows if "nothing new" in r[1]] == ["0", "0"]
    assert [r[2] for r in rows if "without the ledger" in r[1]] == [r[0] for r in rows if "without the ledger" in r[1]]


@pytest.mark.integration
def test_quick_ui_scale_benchmark_builds_the_rows_dagster_writes_and_times_every_query(tmp_path):
    """Tiny size: the bulk-built instance state equals what real runs of the job write, table by table, and every
    UI query of the table gets a time (no timing asserts)."""
    from benchmarks.ui_scale import CASES

    out = tmp_path / "RESULTS.md"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.ui_scale", "--quick", "--out", str(out), "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    section = out.read_text().split("## UI at study scale", 1)[1]
    assert section.strip() in proc.stdout and "mode **quick**" in section
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    compared = {r[0]: r[1:] for r in rows if r[0] in ("event_logs", "asset_event_tags", "asset_check_executions",
                                                       "asset_keys", "dynamic_partitions", "runs", "run_tags")}
    assert len(compared) == 7
    for table, (real, built, differing) in compared.items():
        assert real == built and differing == "0", table
        # Day partitions register no dynamic partitions: that table is empty in the real run and the build alike.
        assert int(real.replace(",", "")) > 0 or table == "dynamic_partitions", table
    timed = {r[0]: r[1] for r in rows if len(r) == 2}
    for _, label in CASES:
        prefix = label.split("{")[0]
        [value] = [v for k, v in timed.items() if k.startswith(prefix)]
        if value == "-" and "registering one participant" in label:
            continue  # no participant partitions to register in the day-partition design
        assert value != "-" and "error" not in value and ">" not in value, (label, value)
