"""The UI path benchmark still runs end to end (``--quick``: 2 participants, 2 days; no timing asserts)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import keep_sections, update_section

ROOT = Path(__file__).resolve().parents[2]
# About 2 minutes on a shared 2-core machine (in-process executor); a generous bound, not a timing assert.
TIMEOUT_S = 900
OTHER_SECTIONS = "# Benchmarks\n\n## 1. Load one participant-day\n\nkept as it was\n\n## 5. Scale\n\nkept too\n"
ROWS = [
    "| 1 participant-day | launchpad (`launchPipelineExecution`), job's default executor |",
    "| 2 days x 1 participant | asset backfill (`launchPartitionBackfill`",
    "| 1 participant-day | `execute_in_process` (replaced: demo, tests) |",
    "| 2 days x 1 participant | `execute_in_process` with range tags (replaced) |",
    "| 2 days x 2 participants (a first month) | asset backfill of every asset of pipeline_job, no participant tag",
    "| daily tick, 2 participants x 4 days, default 250 per run | first tick on a fresh state: every day new |",
    "| daily tick, 2 participants x 4 days, default 250 per run | next day's tick: 1 new day, 3 trailing days unchanged |",
]


@pytest.mark.integration
def test_quick_ui_path_benchmark_updates_only_its_section(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text(OTHER_SECTIONS)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "benchmarks.ui_path", "--quick", "--out", str(out), "--state-dir", str(tmp_path / "state")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # lets the harness stop its daemon, code server and run workers
        stdout, stderr = proc.communicate(timeout=120)
        pytest.fail(f"quick benchmark still running after {TIMEOUT_S}s: {stderr[-4000:]}")
    assert proc.returncode == 0, stderr[-4000:]
    report = out.read_text()
    assert report.startswith(OTHER_SECTIONS.rstrip("\n"))
    section = report.split("## UI path", 1)[1]
    assert section.strip() in stdout  # printed as well as written
    assert "mode **quick**" in section and "load average" in section
    for row in ROWS:
        assert row in section, row
    for line in (line for line in section.splitlines() if line.startswith("| ") and "participant" in line):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == "case":
            continue  # the header names "participant-day" too
        assert cells[2] == "in process", line  # read from the run's log
        assert "FAILURE" not in cells[3] and "gave up" not in cells[4], line
        assert cells[9] not in ("0", "-"), line  # rows loaded


def test_a_new_ui_path_section_replaces_the_old_one_in_place(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\n## 2. Backfill\n\nb\n\n## UI path\n\nold numbers\n\n## Extra: layout\n\nx\n")
    update_section(out, "UI path", "## UI path\n\nnew numbers")
    assert out.read_text() == "# Benchmarks\n\n## 2. Backfill\n\nb\n\n## UI path\n\nnew numbers\n\n## Extra: layout\n\nx\n"
    update_section(out, "UI path", "## UI path\n\nnewer")
    assert out.read_text().count("## UI path") == 1 and "newer" in out.read_text()


def test_the_main_benchmark_keeps_the_ui_path_section_it_does_not_measure(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\n## 1. Load\n\nold\n\n## UI path\n\nui numbers\n\n## 5. Scale\n\nold\n")
    report = keep_sections(out, "# Benchmarks\n\n## 1. Load\n\nnew\n\n## 5. Scale\n\nnew\n", ("UI path",))
    assert report == "# Benchmarks\n\n## 1. Load\n\nnew\n\n## 5. Scale\n\nnew\n\n## UI path\n\nui numbers\n"
    assert keep_sections(tmp_path / "missing.md", "# B\n", ("UI path",)) == "# B\n"
