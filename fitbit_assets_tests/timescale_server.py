"""A throw-away PostgreSQL 17 + TimescaleDB 2.23 server for the tests.

The server is PGlite (WASM Postgres) with TimescaleDB, served over the
PostgreSQL wire protocol by ``fitbit_assets_tests/pglite/server.mjs`` (Node).
Install it with ``npm ci --prefix fitbit_assets_tests/pglite`` (``make test``
does this).

Fixtures (in ``conftest.py``):

* ``timescale_dsn`` (session): DSN of a server started once per test session,
  ``postgresql://postgres:postgres@127.0.0.1:<port>/postgres``.
* ``clean_timescale_dsn`` (function): the same DSN, with all user objects
  dropped before and after the test (see :func:`reset_timescale_database`).

Rules (PGlite limits, see pglite/README.md):

* ONE client connection at a time: a second connection waits until the first
  is closed (and gives up after 60 s). Close every connection you open.
* One backend, one database: the database name in the DSN is ignored (the
  session is always in ``template1``); ``CREATE DATABASE`` succeeds but you
  cannot connect to the new database. Session state (transactions, temp
  tables, SET, prepared statements) is reset when a client disconnects, but
  tables/schemas persist for the whole session: use ``clean_timescale_dsn``
  or clean up yourself. Never ``DROP EXTENSION timescaledb``: it cannot be
  re-created in the same server process.
* No background workers: policies can be added but never run by themselves;
  run them with ``CALL run_job(<job_id>)``.
* ``refresh_continuous_aggregate`` cannot run inside a transaction: use
  ``conn.autocommit = True``.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg2

PGLITE_DIR = Path(__file__).resolve().parent / "pglite"
SERVER_SCRIPT = PGLITE_DIR / "server.mjs"
INSTALL_HINT = (
    "Install Node.js >= 20 and the harness packages with "
    "`npm ci --prefix fitbit_assets_tests/pglite` (`make test` runs this)"
)
STARTUP_TIMEOUT_S = float(os.environ.get("TIMESCALE_HARNESS_STARTUP_TIMEOUT", "60"))
REQUIRED_MODULES = ("@electric-sql/pglite", "@electric-sql/pglite-socket")

RESET_SQL = r"""
DO $reset$
DECLARE
  r record;
BEGIN
  -- user-defined jobs (policies go away with their hypertable / cagg)
  IF to_regclass('_timescaledb_config.bgw_job') IS NOT NULL THEN
    FOR r IN SELECT id FROM _timescaledb_config.bgw_job WHERE id >= 1000 LOOP
      PERFORM public.delete_job(r.id);
    END LOOP;
  END IF;
  -- continuous aggregates (CASCADE takes hierarchical ones along)
  IF to_regclass('timescaledb_information.continuous_aggregates') IS NOT NULL THEN
    FOR r IN SELECT view_schema, view_name
             FROM timescaledb_information.continuous_aggregates LOOP
      EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %I.%I CASCADE',
                     r.view_schema, r.view_name);
    END LOOP;
  END IF;
  -- every user schema except public
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('public', 'information_schema')
             AND nspname NOT LIKE 'pg\_%' AND nspname NOT LIKE '\_timescaledb%'
             AND nspname NOT LIKE 'timescaledb\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  -- relations, routines and types in public that no extension owns
  -- by name, not regclass: a view dropped by an earlier CASCADE would print as its bare oid
  FOR r IN SELECT format('public.%I', c.relname) AS obj, c.relkind FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                     ELSE 'TABLE' END, r.obj);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS obj, p.prokind FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace
             AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_proc'::regclass
                               AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
      CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                     ELSE 'FUNCTION' END, r.obj);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS obj FROM pg_type t
           WHERE t.typnamespace = 'public'::regnamespace
             AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
             AND (t.typtype <> 'c'
                  OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_type'::regclass
                               AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.obj);
  END LOOP;
END
$reset$;
"""


class HarnessUnavailable(Exception):
    """Node or the npm packages of the harness are not installed."""


def missing_prerequisite() -> str | None:
    """Why the harness cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return "`node` was not found on PATH"
    for module in REQUIRED_MODULES:
        if not (PGLITE_DIR / "node_modules" / module / "package.json").is_file():
            return f"{PGLITE_DIR / 'node_modules'} is not installed (missing {module})"
    return None


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_dsn(host: str, port: int) -> str:
    return f"postgresql://postgres:postgres@{host}:{port}/postgres"


class TimescaleServer:
    """A running ``node server.mjs`` process (use as a context manager)."""

    def __init__(self, log_path: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.log_path = log_path
        self.port: int | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.startup_seconds: float | None = None

    @property
    def dsn(self) -> str:
        assert self.port is not None, "server not started"
        return make_dsn(self.host, self.port)

    def __enter__(self) -> TimescaleServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self) -> None:
        reason = missing_prerequisite()
        if reason:
            raise HarnessUnavailable(reason)
        for attempt in range(3):
            try:
                self._start_once(free_loopback_port())
                return
            except RuntimeError:
                # free_loopback_port() is racy: retry if someone took the port.
                if attempt == 2 or "EADDRINUSE" not in self.log_tail():
                    raise

    def _start_once(self, port: int) -> None:
        started = time.monotonic()
        deadline = started + STARTUP_TIMEOUT_S
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [shutil.which("node") or "node", str(SERVER_SCRIPT),
                 "--host", self.host, "--port", str(port), "--exit-on-stdin-eof"],
                cwd=PGLITE_DIR,
                stdin=subprocess.PIPE,  # closing it (or our death) stops the server
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, args=(self.proc.stdout,), daemon=True).start()

        ready_port = None
        while ready_port is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"no READY line within {STARTUP_TIMEOUT_S:.0f} s")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self._fail(f"server exited with code {self.proc.returncode}")
                continue
            if line is None:
                self.proc.wait(timeout=5)
                self._fail(f"server exited with code {self.proc.returncode}")
            elif line.startswith("READY "):
                fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
                ready_port = int(fields["port"])
        self.port = ready_port

        # The READY line means "listening"; confirm the wire protocol end to
        # end. The probe MUST close its connection: only one client at a time.
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                conn = psycopg2.connect(self.dsn, connect_timeout=5)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                        cur.fetchone()
                finally:
                    conn.close()
                self.startup_seconds = time.monotonic() - started
                return
            except psycopg2.OperationalError as exc:
                last_error = exc
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self._fail(f"could not connect: {last_error}")

    def _fail(self, what: str) -> None:
        self.stop()
        raise RuntimeError(
            f"TimescaleDB test server (node {SERVER_SCRIPT.name}) failed to start: "
            f"{what}\n--- server log ({self.log_path}) ---\n{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: server.mjs shuts down cleanly
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def reset_timescale_database(dsn: str) -> None:
    """Drop every user object (schemas, tables, hypertables, continuous
    aggregates, jobs, routines, types) but keep the timescaledb extension."""
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(RESET_SQL)
    finally:
        conn.close()
