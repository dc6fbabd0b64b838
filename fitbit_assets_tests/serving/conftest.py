"""Fixtures of the API access tests: one user per role on the session's cohort, and API clients on it."""

import pytest
from fastapi.testclient import TestClient

from fitbit_assets.serving import contacts, users
from fitbit_assets.serving.api import ApiConfig, create_app
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets_tests.support.api_access import KEY, PASSWORD, SITES, owner, run
from fitbit_assets_tests.support.api_fixtures import LOOPBACK_URL


@pytest.fixture(scope="module")
def people(cohort):
    """Sites on two participants, one user per role (password + API token), removed again afterwards."""
    for participant_id, site in SITES.items():
        run(cohort.dsn, "UPDATE participant SET site = %s WHERE participant_id = %s", (site, participant_id))
    tokens = {}
    with owner(cohort.dsn) as conn, transaction(conn) as cur:
        users.add_user(cur, "test", "coord-north", "coordinator", ("north",), PASSWORD)
        users.add_user(cur, "test", "engineer", "data_engineer", (), PASSWORD)
        users.add_user(cur, "test", "admin", "admin", (), PASSWORD)
        for name in ("coord-north", "engineer", "admin"):
            tokens[name] = users.add_token(cur, "test", name, "tests")
        contacts.set_contact(cur, KEY, "api-typical", "jane.doe@example.org", False)
        contacts.set_contact(cur, KEY, "api-lowwear", "max@example.org", True)
    yield tokens
    for table in ("api_session", "api_token", "api_user", "contact_sent", "participant_contact"):
        run(cohort.dsn, f"DELETE FROM {table}")
    run(cohort.dsn, "UPDATE participant SET site = NULL")


@pytest.fixture
def make_client(cohort):
    apps = []

    def make(**config) -> TestClient:
        app = create_app(ApiConfig(**{"dsn": cohort.dsn, "auth": "on", "token_key": lambda: KEY, **config}))
        apps.append(app)
        return TestClient(app, base_url=LOOPBACK_URL, raise_server_exceptions=False)

    yield make
    for app in apps:
        if app.state.db is not None:
            app.state.db.close()
