"""The production Docker Compose deployment's files and how compose reads them (variable substitution, env files,
volumes, image tags), for the deployment tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fitbit_assets.settings import Settings, variable

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DEPLOY_DAGSTER_YAML = REPO / "deploy" / "dagster.yaml"
DEPLOY_WORKSPACE_YAML = REPO / "deploy" / "workspace.yaml"
ENV_EXAMPLE = REPO / ".env.example"

DAGSTER_HOME_IN_IMAGE = "/opt/dagster/dagster_home"
DATABASE_IMAGE_PREFIXES = ("postgres:", "timescale/timescaledb:")
# Services whose processes launch runs: the run launcher copies its env_vars from them.
LAUNCHING_SERVICES = ("daemon", "webserver")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|(^|_)KEY$|DSN", re.IGNORECASE)


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-") and unset_or_empty:
            return arg
        if op in (":?", "?") and unset_or_empty:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(replace, text)


def interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value, env) for value in node]
    return node


def referenced_variables(text: str) -> dict[str, str | None]:
    """Every variable substituted in ``text`` -> its operator (None, ':-', ':?', ...)."""
    found: dict[str, str | None] = {}
    for match in _VARIABLE.finditer(text):
        name = match["braced"] or match["plain"]
        if name:
            found[name] = found.get(name) or match["op"]
    return found


def parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        values[key.strip()] = value.strip()
    return values


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {key: value for key, _, value in pairs}
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def split_volume(spec: str) -> tuple[str, str, str]:
    source, target, *mode = spec.split(":")
    return source, target, (mode[0] if mode else "rw")


def image_tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def integration_pin(dagster_version: str) -> str:
    """Dagster 1.N.P ships its integration libraries as 0.(N+16).P (1.13.27 <-> 0.29.27)."""
    major, minor, patch = dagster_version.split(".")
    assert major == "1", dagster_version
    return f"0.{int(minor) + 16}.{patch}"


def settings_in_groups(*groups: str) -> list[str]:
    return [
        variable(name) for name, info in Settings.model_fields.items() if info.json_schema_extra["group"] in groups
    ]
