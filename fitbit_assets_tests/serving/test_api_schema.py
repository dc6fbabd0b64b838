"""Schemathesis: generated requests for every operation of the OpenAPI spec, against the real database.

Whatever the inputs, the API must never answer 5xx, and every answer must match the spec (status code,
content type, response schema). Range checks (end before start, too long) are expected 422s, so the
positive-data-acceptance check is not used.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fitbit_assets.defs.alerts.channel import AlertChannelResource
from fitbit_assets.serving.api import ApiConfig, create_app
from fitbit_assets.serving.api.db import ApiDatabase

# No SMTP server: the documented 503 of contact. Every Host name: schemathesis sends its own.
APP = create_app(ApiConfig(auth="off", allowed_hosts=("*",), alert_channel=AlertChannelResource))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def api_database(cohort):
    """Point the module's app at the loaded cohort (the spec is read at import, the database comes later)."""
    APP.state.db = ApiDatabase(cohort.dsn)
    yield
    APP.state.db.close()
    APP.state.db = None


@pytest.mark.integration
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_spec(case):
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    )
