"""deploy/dagster.yaml loaded as a real DagsterInstance against a real PostgreSQL (storage exercised), the
DockerRunLauncher driven up to the Docker API request it would send (the Docker client replaced by a recorder that
builds the request with docker-py's own code), and the user_code service's command as a process on this machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fitbit_assets_tests.support.compose import (
    DEPLOY_DAGSTER_YAML,
    DEPLOY_WORKSPACE_YAML,
    DOCKERFILE,
    service_environment,
)


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
