"""The limits of every API request, and what an error may tell: row and byte caps before reading, the Host
allow-list and headers, bounded pool waits, credential-less requests, no leaks, DSN redaction, the login role."""

import threading
from contextlib import contextmanager

import pytest

from fitbit_assets.serving.api.db import ApiDatabase
from fitbit_assets.warehouse.connection import redact
from fitbit_assets_tests.support.api_access import bearer, run


# ----------------------------------------------------------------------------------- limits and leaks


@pytest.mark.integration
def test_limits_are_checked_before_reading(people, make_client, cohort):
    client = make_client(auth="off", max_rows=5, max_body_bytes=2048)
    too_many = client.get("/api/adherence", params={"start": "2025-06-01", "end": "2025-06-11"})
    assert too_many.status_code == 422 and "FITBIT_API_MAX_ROWS=5" in too_many.json()["detail"]
    big = client.post("/api/participants/api-typical/contact/preview", content=b"x" * 5000,
                      headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "FITBIT_API_MAX_BODY_BYTES" in big.json()["detail"]
    # Before the sign-in check: a server with sign-in refuses the body of an anonymous caller the same way.
    signed = make_client(max_body_bytes=2048).post("/api/session", content=b"x" * 5000,
                                                  headers={"Content-Type": "application/json"})
    assert signed.status_code == 413
    # The limit holds for a body without a declared length too.
    chunked = client.post("/api/participants/api-typical/contact/preview", content=iter([b"x" * 1500] * 3),
                          headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    # Explicit raw with imputed minutes over years: bounded reads, then the 422 naming the limit.
    raw = client.get("/api/participants/api-landing/series", params={
        "start": "2021-01-01T00:00:00Z", "end": "2025-12-31T00:00:00Z", "resolution": "raw", "imputed": "true",
        "max_points": 10})
    assert raw.status_code == 422 and "max_points=10" in raw.json()["detail"]


@pytest.mark.integration
def test_host_allow_list_security_headers_and_no_cdn(make_client):
    client = make_client(auth="off")
    assert client.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
    response = client.get("/api/cohort")
    assert response.status_code == 200
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    assert client.get("/docs").status_code == 404  # its page would load scripts from a CDN
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/signin").status_code == 200


@contextmanager
def every_connection_held(database):
    """The API's only pooled connection held by another thread until the block ends (pool_size=1)."""
    hold, release = threading.Event(), threading.Event()

    def occupy():
        with database.connection():
            hold.set()
            release.wait(10)

    thread = threading.Thread(target=occupy)
    thread.start()
    hold.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


@pytest.mark.integration
def test_pool_waits_are_bounded_and_health_needs_no_connection(make_client):
    client = make_client(auth="off", pool_size=1, pool_wait_seconds=0.5)
    client.get("/api/cohort")  # opens the pool
    with every_connection_held(client.app.state.db):
        busy = client.get("/api/cohort")
        assert busy.status_code == 503
        assert busy.json()["detail"] == ("all 1 database connections stayed busy for 0.5 s "
                                         "(FITBIT_API_POOL_SIZE, FITBIT_API_POOL_WAIT_SECONDS)")
        assert client.get("/api/health").json() == {"status": "ok"}
    assert client.get("/api/cohort").status_code == 200


@pytest.mark.integration
def test_requests_without_a_credential_take_no_pooled_connection(people, make_client):
    """An unauthenticated flood of any route cannot starve signed-in requests: with every connection busy, a request
    without a credential, or with a token or session no user could hold, is answered 401 at once; a real token
    waits for a connection (bounded) and gets the 503 that names the limits."""
    client = make_client(pool_size=1, pool_wait_seconds=0.5)
    assert client.get("/api/cohort", headers=bearer(people["engineer"])).status_code == 200  # opens the pool
    with every_connection_held(client.app.state.db):
        for path in ("/api/cohort", "/api/adherence", "/api/participants/api-typical/series", "/api/users"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=bearer("fa_guessed")).status_code == 401
            assert client.get(path, headers={"Cookie": "fitbit_session=guessed"}).status_code == 401
        busy = client.get("/api/cohort", headers=bearer(people["engineer"]))
        assert busy.status_code == 503 and "FITBIT_API_POOL_SIZE" in busy.json()["detail"]
    assert client.get("/api/cohort", headers=bearer(people["engineer"])).status_code == 200


@pytest.mark.integration
def test_errors_do_not_leak_the_server(make_client, embedded_pg):
    client = make_client(auth="off", dsn=f"host={embedded_pg.host} port=1 user=postgres password='hunter 2' dbname=x")
    unavailable = client.get("/api/cohort")
    assert unavailable.status_code == 503
    assert unavailable.json()["detail"].startswith("database unavailable (logged as ")
    for secret in ("hunter", "postgres", "port", embedded_pg.host):
        assert secret not in unavailable.text


@pytest.mark.parametrize(
    "dsn",
    [
        "host=db user=app password='hunter 2 secret' dbname=fitbit",
        "host=db user=app password=hunter2 dbname=fitbit",
        "postgresql://app:hunter2@db:5432/fitbit",
        "postgresql://app@db/fitbit?password=hunter2",
        "host=db password='it''s hunter2'",
        "password=hunter2 host='unterminated",
    ],
)
def test_dsn_redaction_covers_every_libpq_form(dsn):
    assert "hunter" not in redact(dsn)


@pytest.mark.integration
def test_the_api_refuses_a_login_role_that_can_escalate(cohort):
    database = ApiDatabase(cohort.dsn, role=None)  # the embedded server's superuser
    try:
        with pytest.raises(Exception, match="refuses to log in as a role that is or can become"):
            with database.connection():
                pass
    finally:
        database.close()


@pytest.mark.integration
def test_one_unknown_time_zone_does_not_fail_the_cohort(cohort, make_client):
    client = make_client(auth="off")
    params = {"as_of": "2025-06-12T12:00:00Z"}
    before = {r["participant_id"]: r for r in client.get("/api/cohort", params=params).json()["participants"]}
    run(cohort.dsn, "INSERT INTO participant (participant_id, timezone, enrolled_on, source) "
                    "VALUES ('api-odd-zone', 'Mars/Olympus_Mons', '2025-06-01', 'synthetic')")
    try:
        response = client.get("/api/cohort", params=params)
        assert response.status_code == 200, response.text
        rows = {r["participant_id"]: r for r in response.json()["participants"]}
        assert "api-odd-zone" in rows
        # Everyone else's status is what it was without the odd row.
        assert {pid: row for pid, row in rows.items() if pid != "api-odd-zone"} == before
    finally:
        run(cohort.dsn, "DELETE FROM participant WHERE participant_id = 'api-odd-zone'")

