"""`make demo`'s command end to end in a subprocess, on its own embedded PostgreSQL and Dagster instance: what a
new user sees first (the README's first screen)."""

import datetime as dt
import os
import subprocess
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from fitbit_assets.warehouse.embedded_server import stop_server
from fitbit_assets_tests.support.runs import failing_participant_days

REPO = Path(__file__).resolve().parents[2]
# A fixed window keeps the output deterministic (the default is the week up to yesterday).
LAST_DAY = "2026-01-10"


def local_instance(dagster_home: Path, pgdata: Path) -> None:
    """The local instance template, its storage pinned to ``pgdata`` (this test process has another state folder)."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        config[storage]["config"] = {"pgdata": str(pgdata)}
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))


def valid_day_results(dagster_home: Path) -> dict[str, tuple[str, list[str]]]:
    """What the UI's partition view of daily_adherence_valid_day reads: each day's current check status, with the
    participant-days its latest evaluation lists as failing."""
    key = dg.AssetCheckKey(dg.AssetKey("daily_adherence"), "daily_adherence_valid_day")
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        infos = instance.event_log_storage.get_asset_check_partition_info([key])
        latest = {}
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=1000):  # newest first
            if record.partition and record.event is not None:
                latest.setdefault(record.partition, record.event.dagster_event.event_specific_data)
    return {
        info.partition_key: (
            info.latest_execution_status.value,
            [f"{f['participant_id']}/{f['local_date']}" for f in failing_participant_days(latest[info.partition_key])],
        )
        for info in infos if info.is_current and info.partition_key
    }


def test_demo_prints_rows_adherence_and_metrics(tmp_path):
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    local_instance(dagster_home, tmp_path / "state" / "pgdata")
    try:
        run_demos(tmp_path, dagster_home)
    finally:
        stop_server(tmp_path / "state" / "pgdata")  # the demo leaves its embedded server running, as `make demo` does


def run_demos(tmp_path: Path, dagster_home: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FITBIT_")},
        "FITBIT_STATE_DIR": str(tmp_path / "state"),
        "DAGSTER_HOME": str(dagster_home),
    }
    completed = demo(env, "--days", "7", "--last", LAST_DAY)
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    assert "participants: demo-001, demo-002, demo-003\n" in out
    # The daily schedule's run shape: the three participants' 7 days are one ranged run.
    assert f"[1/1] demo-001 .. demo-003: 2026-01-04 .. {LAST_DAY} ok in" in out
    rows_section = out.split("heart_rate rows per participant-day")[1].split("wear-time adherence")[0]
    assert {line.split()[0] for line in rows_section.splitlines()[3:] if line.strip()} == {"demo-001", "demo-002", "demo-003"}
    adherence = {
        line.split()[0]: line
        for line in out.split("wear-time adherence per participant")[1].split("metric families")[0].splitlines()
        if line.startswith("demo-")
    }
    assert set(adherence) == {"demo-001", "demo-002", "demo-003"}
    # The coordinator status, most urgent first, in the dashboard's words, at the daily tick after the window.
    status_section = out.split("coordinator status per participant as of 2026-01-11 12:30 UTC")[1].split("metric families")[0]
    status = {line.split()[0]: line for line in status_section.splitlines() if line.startswith("demo-")}
    assert list(status)[0] == "demo-003" and set(status) == {"demo-001", "demo-002", "demo-003"}
    # The low-wear participant syncs but wears the device about half of each day: partial-day wear, not a valid-day
    # failure (the 600-minute rule passes on most of these days).
    assert status["demo-003"].startswith("demo-003  partial-day wear since 2026-01-04: worn under 60 % of the day")
    assert "ask the participant to wear the device all day" in status["demo-003"]
    metrics_header = out.split("metric families per participant")[1].splitlines()[1]
    for column in ("resting HR", "zone min/day", "SpO2 %", "daily RMSSD ms", "breaths/min", "AZM/day", "steps/day"):
        assert column in metrics_header
    sleep_section = out.split("nightly sleep per participant")[1].splitlines()
    assert "mean min asleep" in sleep_section[1]
    nightly = {line.split()[0]: line.split() for line in sleep_section[3:] if line.startswith("demo-")}
    assert set(nightly) == {"demo-001", "demo-002", "demo-003"}
    for participant, row in nightly.items():  # 7 nights each, the last 7 listed one by one
        assert row[1] == "7" and len(row[5:]) == 7 and int(row[3]) > 240, (participant, row)
    assert "runs failed: 0" in out
    # Every day's valid-day result is current in the instance, as the UI's check partition view shows it; a failed
    # day names its failing participant-days, all of the low-wear participant.
    results = valid_day_results(dagster_home)
    days = [dt.date(2026, 1, 4) + dt.timedelta(days=i) for i in range(7)]
    assert {day.isoformat() for day in days} <= set(results)
    failed_days = [day for day, (status, _) in results.items() if status == AssetCheckExecutionRecordStatus.FAILED.value]
    assert failed_days and all(not failing for day, (_, failing) in results.items() if day not in failed_days)
    failed = [participant_day for day in failed_days for participant_day in results[day][1]]
    assert failed and all(participant_day.startswith("demo-003/") for participant_day in failed)
    assert f"daily_adherence_valid_day: {21 - len(failed)} passed, {len(failed)} failed" in out
    # The demo's run belongs to the code location, as a launched run does: Overview and the job page list it.
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [run] = instance.get_runs()
    assert run.remote_job_origin is not None and run.remote_job_origin.location_name == "fitbit_assets"
    assert run.tags["dagster/code_location"] == "fitbit_assets"

    # The README's "another window", earlier than the first demo's enrolment, on the same state: the demo roster is
    # enrolled from the window's first day, so every participant loads it (it used to print "ok" and load nothing).
    again = demo(env, "--days", "2", "--last", "2026-01-02")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "now enrolled from 2026-01-01 (3 participant(s) moved earlier)" in again.stdout
    assert "[1/1] demo-001 .. demo-003: 2026-01-01 .. 2026-01-02 ok in" in again.stdout
    rows = again.stdout.split("heart_rate rows per participant-day")[1].split("wear-time adherence")[0]
    assert {line.split()[1] for line in rows.splitlines()[3:] if line.strip()} >= {"2026-01-01", "2026-01-02"}
    # A window that has not ended is refused with the reason, and nothing runs.
    future = demo(env, "--days", "1", "--last", "2999-01-01")
    assert future.returncode == 2 and "has not ended yet" in future.stderr and "[1/" not in future.stdout


def demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(os.sys.executable).parent / "fitbit-assets"), "demo", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
