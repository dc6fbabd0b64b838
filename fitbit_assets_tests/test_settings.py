"""Every documented setting, set in the environment the way a user sets it: the code location is loaded afresh (as a
code server loads it) and the setting's effect is shown; a bad value fails the load with its name, value and what is
allowed; empty means the default. The settings table of docs/configuration.md is checked against the model."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.defs_state.base import DefsStateStorage

from fitbit_assets import settings
from fitbit_assets.defs.alerts.messages import Alert, Message
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, RANGE_END_TAG, RANGE_START_TAG

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.timezone.utc).date()
ENROLLED = dt.date(2025, 6, 1)


def _project_modules() -> dict:
    return {name: module for name, module in sys.modules.items() if name.split(".")[0] == "fitbit_assets"}


@pytest.fixture
def load_definitions(monkeypatch, tmp_path):
    """``load(**environment)`` -> the module ``fitbit_assets.definitions`` imported afresh in that environment.

    Settings are read when the code location loads (the date partitions at import), so every project module is
    imported again; the suite's modules are put back afterwards. The state folder is the test's own unless given.
    """
    saved = _project_modules()

    def load(**environment: str):
        for name in settings.documented_variables():
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("FITBIT_STATE_DIR", str(tmp_path / "state"))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        for name in _project_modules():
            del sys.modules[name]
        # Loading the defs folder reads Dagster's process-wide definitions-state storage (a context variable). A
        # Dagster instance of an earlier test in this process can leave it pointing at the disposed instance (seen
        # in CI, depending on test order and garbage collection); a code location being loaded has none.
        monkeypatch.setattr(DefsStateStorage, "get", classmethod(lambda cls: None))
        return importlib.import_module("fitbit_assets.definitions")

    yield load
    for name in _project_modules():
        del sys.modules[name]
    sys.modules.update(saved)


def date_partitions_start(definitions) -> dt.date:
    # From the assets the definitions hold, without building the repository (see load_definitions).
    # The defs-folder loader lists an asset once per module that holds it (its own and those importing it).
    asset = next(a for a in definitions.defs.assets if a.key == dg.AssetKey("raw_heart_rate_csv"))
    return asset.partitions_def.start.date()


# ------------------------------------------------------------------------------------- files and warehouse


def test_warehouse_dsn_is_used_by_runs_and_by_the_cli_summary(load_definitions, warehouse_dsn, capsys):
    definitions = load_definitions(FITBIT_WAREHOUSE_DSN=warehouse_dsn)
    # The definitions keep a reference, not the DSN (the UI shows resource config).
    assert isinstance(definitions.defs.resources["warehouse"].dsn, dg.EnvVar)
    cli = importlib.import_module("fitbit_assets.cli")
    assert cli.main(["summary"]) == 0
    assert "heart_rate rows per participant-day (postgres backend)" in capsys.readouterr().out
    # The summary connected to the configured server: the schema is there now.
    assert fetch_all(warehouse_dsn, "SELECT to_regclass('public.daily_adherence') IS NOT NULL") == [(True,)]


def test_state_dir_holds_landing_parquet_roster_and_the_embedded_database(load_definitions, tmp_path):
    state = tmp_path / "elsewhere"
    definitions = load_definitions(FITBIT_STATE_DIR=str(state))
    study_files = definitions.defs.resources["study_files"]
    assert (study_files.roster_path, study_files.landing_dir, study_files.parquet_dir) == (
        str(state / "roster.csv"), str(state / "landing"), str(state / "parquet")
    )
    assert settings.load().state_dir / "pgdata" == state / "pgdata"  # WarehouseResource's embedded server folder


def test_landing_parquet_and_roster_paths_are_where_a_run_reads_and_writes(load_definitions, tmp_path):
    landing, parquet, roster_path = tmp_path / "drop", tmp_path / "validated", tmp_path / "study" / "cohort.csv"
    write_roster(roster_path, [Participant("p-1", 7, "Europe/Berlin", ENROLLED, "synthetic")])
    definitions = load_definitions(
        FITBIT_LANDING_DIR=str(landing), FITBIT_PARQUET_DIR=str(parquet), FITBIT_ROSTER_PATH=str(roster_path)
    )
    defs = definitions.defs
    with dg.instance_for_test() as instance:
        # The job with the definitions' own resources, as the daemon would launch it.
        result = defs.resolve_job_def("pipeline_job").execute_in_process(
            instance=instance,
            partition_key=ENROLLED.isoformat(),
            asset_selection=[dg.AssetKey("raw_heart_rate_csv"), dg.AssetKey("validated_heart_rate")],
        )
    assert result.success
    assert (landing / "heart_rate" / "p-1" / f"{ENROLLED}.csv").is_file()
    assert (parquet / "heart_rate" / "participant_id=p-1" / f"{ENROLLED}.parquet").is_file()


# ------------------------------------------------------------------------------------- partitions and schedule


def test_study_start_sets_the_first_daily_partition(load_definitions):
    assert date_partitions_start(load_definitions(FITBIT_STUDY_START="2016-03-01")) == dt.date(2016, 3, 1)
    assert date_partitions_start(load_definitions(FITBIT_STUDY_START=TODAY.isoformat())) == TODAY


def test_without_study_start_the_partitions_start_at_the_first_enrolment(load_definitions, tmp_path):
    assert date_partitions_start(load_definitions()) == settings.DEFAULT_STUDY_START  # no roster yet
    roster_path = tmp_path / "state" / "roster.csv"
    write_roster(roster_path, [
        Participant("p-1", 1, "UTC", ENROLLED + dt.timedelta(days=3), "synthetic"),
        Participant("p-2", 2, "UTC", ENROLLED, "landing"),
    ])
    assert date_partitions_start(load_definitions()) == ENROLLED
    # A participant enrolled for next week alone: the partitions cannot start in the future.
    write_roster(roster_path, [Participant("p-3", 3, "UTC", TODAY + dt.timedelta(days=7), "synthetic")])
    assert date_partitions_start(load_definitions()) == TODAY
    # FITBIT_STUDY_START wins over the roster.
    assert date_partitions_start(load_definitions(FITBIT_STUDY_START="2024-05-01")) == dt.date(2024, 5, 1)


def test_late_sync_days_sets_the_daily_schedules_window(load_definitions, tmp_path):
    write_roster(tmp_path / "state" / "roster.csv", [Participant("p-1", 1, "UTC", ENROLLED, "synthetic")])
    definitions = load_definitions(FITBIT_LATE_SYNC_DAYS="6")
    defs = definitions.defs
    with dg.instance_for_test() as instance:
        # Closed before the instance is: left open, the context keeps the instance's definitions-state storage as
        # Dagster's current one after the instance is gone, and later loads of the definitions fail on it.
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=dt.datetime(2025, 6, 20, 12, 30, tzinfo=dt.timezone.utc),
            resources={"study_files": defs.resources["study_files"]},
        ) as context:
            [request] = defs.resolve_schedule_def("daily_pipeline_schedule").evaluate_tick(context).run_requests
    assert request.tags[RANGE_START_TAG] == "2025-06-13"  # 2025-06-19 minus 6 days
    assert request.tags[RANGE_END_TAG] == "2025-06-19"
    assert request.tags[PARTICIPANTS_TAG] == "p-1"


# ------------------------------------------------------------------------------------- adherence definitions


def test_adherence_thresholds_reach_the_adherence_resource(load_definitions):
    definitions = load_definitions(
        FITBIT_WORN_MINUTE_MIN_SAMPLES="2", FITBIT_VALID_DAY_MINUTES="480", FITBIT_IMPUTE_MAX_GAP_MINUTES="0"
    )
    params = definitions.defs.resources["adherence"].params()
    assert (params.worn_minute_min_samples, params.valid_day_minutes, params.impute_max_gap_minutes) == (2, 480, 0)


# ------------------------------------------------------------------------------------- alert channel


def test_smtp_settings_deliver_an_alert(load_definitions, smtp_server):
    port, inbox = smtp_server
    definitions = load_definitions(
        FITBIT_ALERT_SMTP_HOST="127.0.0.1",
        FITBIT_ALERT_SMTP_PORT=str(port),
        FITBIT_ALERT_SMTP_TLS="none",  # any value used to break the code location (an EnvVar in a Literal field)
        FITBIT_ALERT_SMTP_FROM="pipeline@study.test",
        FITBIT_ALERT_SMTP_TO="coordinator@study.test, backup@study.test",
    )
    with dg.build_resources({"alert_channel": definitions.defs.resources["alert_channel"]}) as resources:
        assert resources.alert_channel.send(_message()) == ["email"]
    [(sender, recipients, mail)] = inbox.messages
    assert sender == "pipeline@study.test" and recipients == ["coordinator@study.test", "backup@study.test"]
    assert "p-1" in mail["Subject"]


def test_smtp_login_settings_are_used(load_definitions, smtp_server):
    port, _ = smtp_server
    definitions = load_definitions(
        FITBIT_ALERT_SMTP_HOST="127.0.0.1", FITBIT_ALERT_SMTP_PORT=str(port), FITBIT_ALERT_SMTP_TLS="none",
        FITBIT_ALERT_SMTP_TO="c@study.test", FITBIT_ALERT_SMTP_USER="pipeline", FITBIT_ALERT_SMTP_PASSWORD="s3cret",
    )
    channel = definitions.defs.resources["alert_channel"]
    assert isinstance(channel.smtp_password, dg.EnvVar)  # the secret is not stored in the definitions
    with dg.build_resources({"alert_channel": channel}) as resources:
        assert (resources.alert_channel.smtp_user, resources.alert_channel.smtp_password) == ("pipeline", "s3cret")
        # The test server offers no AUTH: the delivery error shows the login was attempted.
        with pytest.raises(Exception, match="AUTH"):
            resources.alert_channel.send(_message())


def test_webhook_settings_deliver_an_alert_with_the_token(load_definitions, webhook_server):
    url, received = webhook_server
    definitions = load_definitions(FITBIT_ALERT_WEBHOOK_URL=url, FITBIT_ALERT_WEBHOOK_TOKEN="tok-9")
    with dg.build_resources({"alert_channel": definitions.defs.resources["alert_channel"]}) as resources:
        assert resources.alert_channel.send(_message()) == ["webhook"]
    [(authorization, payload)] = received
    assert authorization == "Bearer tok-9" and payload["participant_id"] == "p-1"


def _message() -> Message:
    alert = Alert("p-1", ENROLLED, "non_adherent", "8 h worn")
    return Message("p-1", ENROLLED, (alert,))


# ------------------------------------------------------------------------------------- API


def test_api_settings_configure_the_api(load_definitions):
    load_definitions(
        FITBIT_API_DSN="host=db.example dbname=fitbit", FITBIT_API_ROLE="none", FITBIT_API_AUTH="on",
        FITBIT_API_ALLOWED_HOSTS="study.example, 127.0.0.1", FITBIT_API_POOL_WAIT_SECONDS="2.5",
        FITBIT_API_MAX_POINTS="500", FITBIT_API_MAX_RANGE_DAYS="30", FITBIT_API_MAX_ROWS="900",
        FITBIT_ALERT_WEBHOOK_URL="https://hooks.test/x",
    )
    api = importlib.import_module("fitbit_assets.serving.api.config")
    config = api.ApiConfig.from_env()
    assert (config.dsn, config.role, config.auth, config.allowed_hosts, config.pool_wait_seconds, config.max_points,
            config.max_range_days, config.max_rows) == (
        "host=db.example dbname=fitbit", None, "on", ("study.example", "127.0.0.1"), 2.5, 500, 30, 900
    )
    # The contact action's channel, read outside Dagster: the secret URL resolved.
    assert config.alert_channel().webhook_url == "https://hooks.test/x"
    load_definitions()
    assert importlib.import_module("fitbit_assets.serving.api.config").ApiConfig.from_env().role == "fitbit_api_reader"


# ------------------------------------------------------------------------------------- bad and empty values

BAD_VALUES = {
    "FITBIT_WAREHOUSE_DSN": "FITBIT_WAREHOUSE_DSN",
    "FITBIT_STUDY_START": "01/01/2024",
    "FITBIT_LATE_SYNC_DAYS": "abc",
    "FITBIT_WORN_MINUTE_MIN_SAMPLES": "0",
    "FITBIT_VALID_DAY_MINUTES": "-1",
    "FITBIT_IMPUTE_MAX_GAP_MINUTES": "1.5",
    "FITBIT_ALERT_SMTP_PORT": "smtp",
    "FITBIT_ALERT_SMTP_TLS": "yes",
    "FITBIT_ALERT_WEBHOOK_URL": "hooks.test/x",
    "FITBIT_API_DSN": "not a dsn",
    "FITBIT_API_MAX_POINTS": "0",
    "FITBIT_API_MAX_RANGE_DAYS": "a year",
    "FITBIT_API_AUTH": "maybe",
    "FITBIT_API_MAX_BODY_BYTES": "10",
}


@pytest.mark.parametrize(("name", "value"), sorted(BAD_VALUES.items()))
def test_a_bad_value_fails_the_load_naming_variable_value_and_what_is_allowed(load_definitions, name, value):
    field = settings.Settings.model_fields[name.removeprefix(settings.ENV_PREFIX).lower()]
    with pytest.raises(ValueError) as raised:
        load_definitions(**{name: value})
    assert type(raised.value).__name__ == "SettingsError"  # the freshly loaded module's class
    message = str(raised.value)
    assert message.startswith(f"{name}=")
    assert f"must be {field.json_schema_extra['allowed']}" in message
    assert f"(default {field.json_schema_extra['default_doc']})" in message
    if "SecretStr" in str(field.annotation):
        assert message.startswith(f"{name}=(value hidden: secret): ")  # a DSN or URL may hold a password
    else:
        assert repr(value) in message


def test_examples_from_the_issue_read_as_one_sentence(load_definitions):
    with pytest.raises(ValueError, match=re.escape(
        "FITBIT_LATE_SYNC_DAYS='abc': must be an integer >= 0 (default 3)"
    )):
        load_definitions(FITBIT_LATE_SYNC_DAYS="abc")
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValueError, match=re.escape(f"FITBIT_STUDY_START='{future}': must be a YYYY")):
        load_definitions(FITBIT_STUDY_START=future)
    # Two bad values: both named in the one message.
    with pytest.raises(ValueError, match="FITBIT_LATE_SYNC_DAYS='-1'.*; FITBIT_VALID_DAY_MINUTES='abc'"):
        load_definitions(FITBIT_LATE_SYNC_DAYS="-1", FITBIT_VALID_DAY_MINUTES="abc")


def test_empty_means_the_default_for_every_setting(load_definitions, tmp_path):
    definitions = load_definitions(**{name: "" for name in settings.documented_variables()})
    loaded = settings.load()
    for name, info in settings.Settings.model_fields.items():
        if name not in ("state_dir", "landing_dir", "parquet_dir", "roster_path"):
            assert getattr(loaded, name) == info.default, name
    assert loaded.state_dir == settings.PROJECT_ROOT / ".state" and loaded.landing_dir == loaded.state_dir / "landing"
    study_files = definitions.defs.resources["study_files"]  # what the code location's runs read
    assert (study_files.landing_dir, study_files.roster_path) == (str(loaded.landing_dir), str(loaded.roster_path))


# ------------------------------------------------------------------------------------- documentation

DEPLOYMENT_ONLY = {
    # docker-compose.yml's own variables (ports, image tag) and test-only ones: not settings of the code.
    "FITBIT_IMAGE_TAG", "FITBIT_API_BIND", "FITBIT_API_PORT", "FITBIT_TEST_ARTIFACTS_DIR", "FITBIT_CHROMIUM",
}


def test_the_documented_settings_table_is_the_model():
    page = (REPO / "docs" / "configuration.md").read_text()
    begin, end = "<!-- settings table: generated from fitbit_assets/settings.py -->", "<!-- end of settings table -->"
    assert begin in page and end in page, "docs/configuration.md lost the settings table markers"
    documented = page.split(begin, 1)[1].split(end, 1)[0].strip()
    assert documented == settings.settings_table(), (
        "docs/configuration.md's settings table differs from the settings model; replace it with:\n" + settings.settings_table()
    )


DOCUMENTS = ["README.md", *sorted(str(page.relative_to(REPO)) for page in (REPO / "docs").glob("*.md")), ".env.example",
             "docker-compose.yml"]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_fitbit_variable_the_docs_name_is_a_setting(document):
    named = set(re.findall(r"FITBIT_[A-Z_]*[A-Z]", (REPO / document).read_text()))
    unknown = sorted(named - set(settings.documented_variables()) - DEPLOYMENT_ONLY - {"FITBIT_ALERT_SMTP", "FITBIT_ALERT"})
    assert not unknown, f"{document} names variables the settings model does not have: {unknown}"
