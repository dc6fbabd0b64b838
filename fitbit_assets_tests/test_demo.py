"""`make demo`'s command end to end in a subprocess, on its own embedded PostgreSQL and Dagster instance: what a
new user sees first (the README's first screen)."""

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A fixed window keeps the output deterministic (the default is the week up to yesterday).
LAST_DAY = "2026-01-10"


def test_demo_prints_rows_adherence_and_metrics(tmp_path):
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "deploy" / "local" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FITBIT_")},
        "FITBIT_STATE_DIR": str(tmp_path / "state"),
        "DAGSTER_HOME": str(dagster_home),
    }
    completed = demo(env, "--days", "7", "--last", LAST_DAY)
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    assert "participants: demo-001, demo-002, demo-003 (3 newly registered)" in out
    assert out.count(f"2026-01-04 .. {LAST_DAY} ok in") == 3
    rows_section = out.split("heart_rate rows per participant-day")[1].split("wear-time adherence")[0]
    assert {line.split()[0] for line in rows_section.splitlines()[3:] if line.strip()} == {"demo-001", "demo-002", "demo-003"}
    adherence = {
        line.split()[0]: line
        for line in out.split("wear-time adherence per participant")[1].split("metric families")[0].splitlines()
        if line.startswith("demo-")
    }
    assert "FLAGGED" in adherence["demo-003"]  # the low-wear participant, by design
    assert "non-adherent (flagged by check daily_adherence_valid_day, WARN): " in out and "demo-003" in out
    metrics_header = out.split("metric families per participant")[1].splitlines()[1]
    for column in ("resting HR", "zone min/day", "SpO2 %", "daily RMSSD ms", "breaths/min", "AZM/day", "steps/day"):
        assert column in metrics_header
    assert "runs failed: 0" in out

    # The README's "another window", earlier than the first demo's enrolment, on the same state: the demo roster is
    # enrolled from the window's first day, so every participant loads it (it used to print "ok" and load nothing).
    again = demo(env, "--days", "2", "--last", "2026-01-02")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "now enrolled from 2026-01-01 (3 participant(s) moved earlier)" in again.stdout
    assert again.stdout.count("2026-01-01 .. 2026-01-02 ok in") == 3
    rows = again.stdout.split("heart_rate rows per participant-day")[1].split("wear-time adherence")[0]
    assert {line.split()[1] for line in rows.splitlines()[3:] if line.strip()} >= {"2026-01-01", "2026-01-02"}
    # A window that has not ended is refused with the reason, and nothing runs.
    future = demo(env, "--days", "1", "--last", "2999-01-01")
    assert future.returncode == 2 and "has not ended yet" in future.stderr and "[1/3]" not in future.stdout


def demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(os.sys.executable).parent / "fitbit-assets"), "demo", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
