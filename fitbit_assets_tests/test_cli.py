"""`fitbit-assets` as a user meets it: demo windows that would load nothing are refused with the reason, the demo
roster follows an earlier window, a missing roster or a bad setting is one sentence (no traceback)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fitbit_assets import cli
from fitbit_assets.domain.roster import Participant, read_roster, write_roster
from fitbit_assets_tests.support.loopback import free_loopback_port

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def roster_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "state" / "roster.csv"
    monkeypatch.setenv("FITBIT_ROSTER_PATH", str(path))
    return path


def test_demo_window_defaults_to_the_week_up_to_yesterday():
    assert cli.demo_window(7, None, TODAY, None) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert cli.demo_window(1, dt.date(2026, 1, 10), TODAY, dt.date(2026, 1, 10)) == (dt.date(2026, 1, 10),) * 2


@pytest.mark.parametrize(
    ("days", "last", "study_start", "reason"),
    [
        (0, None, None, "--days 0 loads nothing: give 1 or more days"),
        (-1, None, None, "--days -1 loads nothing"),
        (3, dt.date(2026, 11, 30), None, "--last 2026-11-30 has not ended yet (the daily partitions end with "
                                         "yesterday, 2026-11-29, UTC): choose --last 2026-11-29 or earlier"),
        (30, dt.date(2026, 1, 10), dt.date(2026, 1, 1), "the window 2025-12-12 .. 2026-01-10 starts before "
                                                         "FITBIT_STUDY_START=2026-01-01, the first daily partition: "
                                                         "choose --days 10 or fewer"),
        (3, dt.date(2025, 12, 1), dt.date(2026, 1, 1), "choose --last 2026-01-01 or later"),
    ],
)
def test_windows_that_load_nothing_are_refused_with_the_reason(days, last, study_start, reason):
    with pytest.raises(cli.DemoWindowError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        cli.demo_window(days, last, TODAY, study_start)


def test_first_demo_writes_a_roster_enrolled_from_the_windows_first_day(roster_path):
    roster = cli.prepare_demo_roster(dt.date(2026, 1, 4), dt.date(2026, 1, 10))
    assert roster.participant_ids == ["demo-001", "demo-002", "demo-003"]
    assert {p.enrolled_on for p in read_roster(roster_path).participants} == {dt.date(2026, 1, 4)}


def test_an_earlier_window_moves_the_demo_rosters_enrolment(roster_path, capsys):
    cli.prepare_demo_roster(dt.date(2026, 11, 23), dt.date(2026, 11, 29))  # the first `make demo`
    roster = cli.prepare_demo_roster(dt.date(2025, 12, 12), dt.date(2026, 1, 10))  # the README's other window
    assert {p.enrolled_on for p in roster.participants} == {dt.date(2025, 12, 12)}
    assert read_roster(roster_path).participants == roster.participants
    assert "now enrolled from 2025-12-12 (3 participant(s) moved earlier)" in capsys.readouterr().out
    # A later window keeps the earlier enrolment.
    assert cli.prepare_demo_roster(dt.date(2026, 11, 1), dt.date(2026, 11, 2)).participants == roster.participants


def test_a_study_roster_is_never_changed_and_a_window_before_it_is_refused(roster_path):
    study = [
        Participant("p-001", 1, "UTC", dt.date(2026, 3, 1), "landing"),
        Participant("p-002", 2, "UTC", dt.date(2026, 4, 1), "synthetic"),
    ]
    write_roster(roster_path, study)
    before = roster_path.read_text()
    with pytest.raises(cli.DemoWindowError, match=r"nothing to load: the window 2026-01-01 \.\. 2026-01-10 ends "
                                                  r"before every enrolment in .*roster.csv \(earliest 2026-03-01\)"):
        cli.prepare_demo_roster(dt.date(2026, 1, 1), dt.date(2026, 1, 10))
    # Overlapping one enrolment: the roster is used as it is (the demo skips p-002, enrolled after the window).
    assert cli.prepare_demo_roster(dt.date(2026, 2, 20), dt.date(2026, 3, 5)).participants == tuple(study)
    assert roster_path.read_text() == before


def test_cli_errors_are_one_sentence(roster_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert cli.main(["register"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fitbit-assets register: roster file {roster_path} does not exist: set FITBIT_ROSTER_PATH")
    assert "Traceback" not in err
    assert cli.main(["demo", "--days", "0"]) == 2
    assert capsys.readouterr().err == "fitbit-assets demo: --days 0 loads nothing: give 1 or more days\n"
    monkeypatch.setenv("FITBIT_VALID_DAY_MINUTES", "abc")
    assert cli.main(["demo"]) == 2
    assert "fitbit-assets demo: FITBIT_VALID_DAY_MINUTES='abc': must be an integer from 0 to 1500" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["demo", "--last", "01/10/2026"])
    assert "'01/10/2026' is not a YYYY-MM-DD date" in capsys.readouterr().err


def test_serve_ends_on_sigterm_and_db_stop_stops_the_shared_embedded_postgresql(tmp_path):
    state = tmp_path / "state"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FITBIT_")},
        "FITBIT_STATE_DIR": str(state),
    }
    port = free_loopback_port()
    serve = subprocess.Popen(
        [str(Path(sys.executable).parent / "fitbit-assets"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except OSError:
                assert serve.poll() is None, serve.stdout.read()
                time.sleep(0.5)
        postmaster_pid = int((state / "pgdata" / "postmaster.pid").read_text().split()[0])
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
    # The server is shared by the pipeline, the UI and the API, and kept running between them by design: serve's
    # end does not stop it; `fitbit-assets db stop` (make clean) does.
    assert serve.returncode is not None and _alive(postmaster_pid)
    stop = subprocess.run(
        [str(Path(sys.executable).parent / "fitbit-assets"), "db", "stop"], env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert stop.returncode == 0 and "stopped" in stop.stdout, stop.stdout + stop.stderr
    deadline = time.monotonic() + 30
    while _alive(postmaster_pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(postmaster_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
