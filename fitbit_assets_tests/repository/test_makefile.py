"""The Makefile as a user runs it (``make -n`` prints the commands without running them): the Dagster instance
follows the state folder, a DAGSTER_HOME given by the user is kept, the UI's host and port can be chosen."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_dry_run(*args: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FITBIT_", "DAGSTER_"))}
    completed = subprocess.run(
        ["make", "-n", *args], cwd=REPO, env={**env, **environment}, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def make_variable(name: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FITBIT_", "DAGSTER_"))}
    completed = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "print"],
        input=f"print:\n\t@echo $({name})\n", cwd=REPO, env={**env, **environment}, capture_output=True, text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_dagster_home_defaults_to_the_state_folder_and_follows_fitbit_state_dir(tmp_path):
    assert make_variable("DAGSTER_HOME") == str(REPO / ".state" / "dagster_home")
    assert make_variable("DAGSTER_HOME", FITBIT_STATE_DIR=str(tmp_path)) == str(tmp_path / "dagster_home")


def test_a_dagster_home_given_by_the_user_is_kept(tmp_path):
    home = tmp_path / "my_dagster_home"
    assert make_variable("DAGSTER_HOME", DAGSTER_HOME=str(home), FITBIT_STATE_DIR=str(tmp_path)) == str(home)
    out = make_dry_run("register", DAGSTER_HOME=str(home))
    # The local instance template is copied from the top level into that home, only when missing.
    assert f"cp dagster.yaml {home}/dagster.yaml" in out


def test_dev_host_and_port_can_be_chosen():
    assert "dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000" in make_dry_run("dev")
    assert "dagster-webserver -w workspace.yaml -h 0.0.0.0 -p 3300" in make_dry_run("dev", "PORT=3300", "HOST=0.0.0.0")


def test_dev_runs_the_daemon_with_the_short_backfill_loop():
    assert "-m fitbit_assets.daemon -w workspace.yaml" in make_dry_run("dev")
    assert "fitbit-assets serve --host 127.0.0.1 --port 8080" in make_dry_run("serve", "API_PORT=8080")


def test_topology_runs_the_compose_services_on_the_chosen_ports():
    out = " ".join(make_dry_run("topology", "PORT=3300", "API_PORT=8080", "TOPOLOGY_SET=FITBIT_LATE_SYNC_DAYS=1")
                   .replace("\\\n", " ").split())
    assert ("-m fitbit_assets.devtools.compose_topology --synthetic-participants 3 --set DAGSTER_WEBSERVER_PORT=3300 "
            "--set FITBIT_API_PORT=8080 --set FITBIT_LATE_SYNC_DAYS=1") in out
