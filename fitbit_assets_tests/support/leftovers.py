"""What a test session leaves running: embedded PostgreSQL servers (they detach from the process that starts them, by
design: ``fitbit-assets db stop`` ends them) and child processes (a daemon, a code server, a webserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil

from fitbit_assets.warehouse.embedded_server import stop_server


def postmasters_under(*roots: Path) -> Iterator[Path]:
    """The data folders of the running PostgreSQL servers whose folder is inside one of ``roots``."""
    roots = tuple(Path(root).resolve() for root in roots)
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if not command or Path(command[0]).name != "postgres" or "-D" not in command[:-1]:
            continue
        pgdata = Path(command[command.index("-D") + 1]).resolve()
        if any(pgdata.is_relative_to(root) for root in roots):
            yield pgdata


def stop_servers_under(*roots: Path) -> list[Path]:
    """Stop every PostgreSQL server whose data folder is inside ``roots``; the folders of those stopped."""
    return [pgdata for pgdata in list(postmasters_under(*roots)) if stop_server(pgdata)]


def end_child_processes(timeout: float = 10.0) -> list[int]:
    """Terminate (then kill) the processes this one started that still run; their ids."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    return [child.pid for child in children]
