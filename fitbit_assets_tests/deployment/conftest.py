"""Fixtures of the deployment tests: docker-compose.yml (raw and substituted with .env.example), its services,
deploy/dagster.yaml and its run launcher, the Dagster pin."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from fitbit_assets_tests.support.compose import (
    COMPOSE_FILE,
    DEPLOY_DAGSTER_YAML,
    ENV_EXAMPLE,
    REPO,
    interpolate_tree,
    parse_env_file,
)


@pytest.fixture(scope="module")
def compose_raw() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), "docker-compose.yml is missing at the repo root"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a YAML mapping"
    return data


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    assert ENV_EXAMPLE.is_file(), ".env.example is missing"
    return parse_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(compose_raw: dict[str, Any], env_example: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose would see it with .env copied from .env.example."""
    return interpolate_tree(compose_raw, env_example)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def dagster_yaml() -> dict[str, Any]:
    assert DEPLOY_DAGSTER_YAML.is_file(), "deploy/dagster.yaml is missing"
    return yaml.safe_load(DEPLOY_DAGSTER_YAML.read_text())


@pytest.fixture(scope="module")
def launcher_config(dagster_yaml: dict[str, Any]) -> dict[str, Any]:
    launcher = dagster_yaml["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    return launcher["config"]


@pytest.fixture(scope="module")
def dagster_pin() -> str:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = [dep for dep in pyproject["project"]["dependencies"] if re.match(r"dagster\s*==", dep)]
    assert pins, "pyproject.toml must pin dagster==X.Y.Z"
    return pins[0].split("==", 1)[1].strip()
