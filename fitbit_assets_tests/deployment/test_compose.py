"""Checks of the production Docker Compose deployment that run without a Docker engine (the stack itself is never
started here; ``fitbit_assets_tests/end_to_end/test_compose_topology.py`` runs its services as local processes):
docker-compose.yml on its own: structure, pinned images, healthchecks and ``service_healthy`` ordering, no literal
secrets; .env.example documents every variable compose substitutes; .env is ignored by git."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fitbit_assets_tests.support.compose import (
    COMPOSE_FILE,
    DATABASE_IMAGE_PREFIXES,
    LAUNCHING_SERVICES,
    REPO,
    SECRET_NAME,
    MissingVariable,
    image_tag,
    interpolate,
    referenced_variables,
    service_environment,
    split_volume,
)


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
