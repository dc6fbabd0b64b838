"""The embedded PostgreSQL's lifecycle across processes: started once, kept running, attached without forking,
a failed start retried and then named."""

import subprocess
import sys
import textwrap
import time

import psycopg2
import pytest

from fitbit_assets.warehouse import embedded_server
from fitbit_assets.warehouse.embedded_server import EmbeddedServerError, embedded_dsn, running_postmaster, stop_server

# A Dagster process in miniature: resolves the DSN as WarehouseResource does, connects to the project database,
# and reports the postmaster it reached and how many processes it launched (the attach path must launch none).
ATTACH = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path
    launched = []
    real_popen_init = subprocess.Popen.__init__
    def recording_init(self, args, *rest, **kwargs):
        launched.append(args)
        real_popen_init(self, args, *rest, **kwargs)
    subprocess.Popen.__init__ = recording_init
    import psycopg2
    from fitbit_assets.warehouse.embedded_server import embedded_dsn
    conn = psycopg2.connect(embedded_dsn(Path(sys.argv[1])))
    with conn.cursor() as cur:
        cur.execute("SELECT current_database(), pg_postmaster_start_time()")
        database, started = cur.fetchone()
    print(database, started.isoformat(), len(launched))
    """
)


def attach_from_another_process(pgdata) -> tuple[str, str, int]:
    """(database, postmaster start time, processes launched) as seen by a new Python process."""
    out = subprocess.run([sys.executable, "-c", ATTACH, str(pgdata)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    database, started, launched = out.stdout.split()
    return database, started, int(launched)


@pytest.fixture
def pgdata(tmp_path):
    folder = tmp_path / "pgdata"
    yield folder
    stop_server(folder)


def test_started_once_then_reused_by_other_processes_without_a_restart(pgdata):
    started = time.monotonic()
    dsn = embedded_dsn(pgdata)
    first_start_s = time.monotonic() - started
    postmaster = running_postmaster(pgdata)
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT current_database(), pg_postmaster_start_time()")
        database, start_time = cur.fetchone()
    conn.close()
    assert database == "fitbit"

    # Each process exits after attaching: with the old cleanup_mode="stop" the last one stopped the server.
    for _ in range(2):
        assert attach_from_another_process(pgdata) == ("fitbit", start_time.isoformat(), 0)
        assert running_postmaster(pgdata).pid == postmaster.pid
    started = time.monotonic()
    assert embedded_dsn(pgdata) == dsn
    attach_s = time.monotonic() - started
    print(f"first start (initdb + start, in a child interpreter): {first_start_s:.2f} s; attach: {attach_s * 1000:.1f} ms")


def test_processes_starting_a_fresh_server_at_once_start_it_once(pgdata):
    starters = [
        subprocess.Popen([sys.executable, "-c", ATTACH, str(pgdata)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [starter.communicate(timeout=180) for starter in starters]
    assert [starter.returncode for starter in starters] == [0, 0, 0], [err for _, err in results]
    start_times = {out.split()[1] for out, _ in results}
    assert len(start_times) == 1  # one postmaster served all three


def test_a_stopped_server_is_started_again_on_next_use(pgdata):
    embedded_dsn(pgdata)
    first_pid = running_postmaster(pgdata).pid
    assert stop_server(pgdata)
    assert running_postmaster(pgdata) is None
    assert not stop_server(pgdata)
    conn = psycopg2.connect(embedded_dsn(pgdata))
    conn.close()
    assert running_postmaster(pgdata).pid != first_pid


def test_a_failed_start_is_retried_then_named_with_pgdata_and_log(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.write_text("not a folder")  # e.g. a stray file where the server's folder should be
    started = time.monotonic()
    with pytest.raises(EmbeddedServerError) as failure:
        embedded_dsn(pgdata)
    elapsed = time.monotonic() - started
    message = str(failure.value)
    assert f"did not start after {embedded_server.START_ATTEMPTS} attempts" in message
    assert f"pgdata: {pgdata}" in message
    assert f"server log: {pgdata / 'log'}" in message
    assert [f"attempt {n}: exit status 1" in message for n in (1, 2, 3)] == [True, True, True]
    assert "FileExistsError" in message  # the starter's own error, from its last output lines
    assert "(no server log: Not a directory" in message
    assert elapsed >= embedded_server.START_BACKOFF_S * 3  # backoff 1 s + 2 s between the three attempts


def test_a_failed_server_start_names_the_last_lines_of_its_log(tmp_path):
    pgdata = tmp_path / "pgdata"
    embedded_dsn(pgdata)
    stop_server(pgdata)
    # A setting the server refuses at startup: initdb has run, pg_ctl start fails, the log says why.
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write("shared_buffers = 'lots'\n")
    with pytest.raises(EmbeddedServerError) as failure:
        embedded_dsn(pgdata)
    message = str(failure.value)
    assert 'invalid value for parameter "shared_buffers": "lots"' in message
    assert running_postmaster(pgdata) is None
