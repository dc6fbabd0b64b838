"""docker-compose.yml <-> deploy/dagster.yaml <-> deploy/workspace.yaml, without a Docker engine: network and volume
names, the env the run launcher copies into run containers, every setting in every process that uses it, the
user_code gRPC host and port."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from fitbit_assets_tests.support.compose import (
    DEPLOY_WORKSPACE_YAML,
    DOCKERFILE,
    LAUNCHING_SERVICES,
    REPO,
    referenced_variables,
    service_environment,
    settings_in_groups,
    split_volume,
)


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


def test_daemon_service_runs_the_project_daemon_the_dagster_image_carries(services):
    """The daemon service runs fitbit_assets/daemon.py (a 2 s backfill loop) from the dagster image, which has
    Dagster but not the project: the image copies that module, and the module imports nothing of the project."""
    import ast

    assert services["daemon"]["command"][:3] == ["python", "-m", "fitbit_assets.daemon"]
    dockerfile = DOCKERFILE.read_text()
    dagster_stage = dockerfile.split("FROM base AS dagster", 1)[1].split("\nFROM ", 1)[0]
    assert "COPY fitbit_assets/__init__.py fitbit_assets/daemon.py /opt/dagster/app/fitbit_assets/" in dagster_stage
    assert "ENV PYTHONPATH=/opt/dagster/app" in dagster_stage
    tree = ast.parse((REPO / "fitbit_assets" / "daemon.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - set(sys.stdlib_module_names) == {"click", "dagster", "dagster_shared"}


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
    assert origin.location_name == project_code_location_name()


def project_code_location_name() -> str:
    """[tool.dg.project] code_location_name: without it Dagster's component loader takes the checkout's folder
    name, and every process of a clone in another folder warns that it does not match the workspace's name."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dg"]["project"]["code_location_name"]


def test_local_dev_workspace_loads():
    local_workspace = REPO / "workspace.yaml"
    if not local_workspace.exists():
        pytest.skip("no top-level workspace.yaml (local development) yet")
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    origins = location_origins_from_yaml_paths([str(local_workspace)])
    assert [origin.location_name for origin in origins] == [project_code_location_name()]
