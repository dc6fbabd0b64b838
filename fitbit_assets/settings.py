"""Every ``FITBIT_*`` setting of the project in one model, read from the environment and validated when loaded.

``load()`` is called when the code location loads (``fitbit_assets.lib.partitions`` needs the study start at import),
by the CLI and by the API, so a bad value stops the process up front with one message that names the variable,
the value and what is allowed, instead of failing later in a run. An empty variable means its default, like an
unset one. Defaults put everything under ``.state/`` in the checkout, so ``make demo`` and ``make dev`` share one
embedded database, landing folder and Parquet store without any configuration.

The settings table of docs/configuration.md, the compose deployment's environment and ``.env.example`` are checked against this
model (``fitbit_assets_tests/test_settings.py``, ``fitbit_assets_tests/deployment/``).
"""

from __future__ import annotations

import datetime as dt
import os
import typing
from pathlib import Path
from typing import Any, Literal, Optional

import psycopg2.extensions
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "FITBIT_"
DEFAULT_STUDY_START = dt.date(2024, 1, 1)
NO_ROLE = "none"  # FITBIT_API_ROLE=none: no SET ROLE (PostgreSQL's own SET ROLE NONE)


def _setting(default: Any, meaning: str, allowed: str, default_doc: str, group: str, **constraints: Any) -> Any:
    """A field with what the settings table and the error message say about it."""
    return Field(
        default,
        description=meaning,
        json_schema_extra={"allowed": allowed, "default_doc": default_doc, "group": group},
        **constraints,
    )


class SettingsError(ValueError):
    """One readable message for every invalid setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True, hide_input_in_errors=True,
        validate_default=False,  # the derived defaults (folders under the state folder) are filled in below
    )

    # --- Files and the warehouse
    warehouse_dsn: Optional[SecretStr] = _setting(
        None, "warehouse server; unset: the embedded PostgreSQL under the state folder",
        "a libpq DSN (host=... dbname=...) or a postgresql:// URL", "unset (embedded)", "pipeline",
    )
    state_dir: Path = _setting(
        None, "embedded database, landing folder, Parquet store, roster", "a folder path", "`.state/` in the checkout",
        "pipeline",
    )
    landing_dir: Path = _setting(
        None, "raw files (generated, or exports dropped by the study team)", "a folder path",
        "`$FITBIT_STATE_DIR/landing`", "pipeline",
    )
    parquet_dir: Path = _setting(
        None, "validated frames", "a folder path", "`$FITBIT_STATE_DIR/parquet`", "pipeline",
    )
    roster_path: Path = _setting(
        None, "participants ([Participants](pipeline.md#participants-roster))", "a file path", "`$FITBIT_STATE_DIR/roster.csv`", "pipeline",
    )
    # --- Partitions and the schedule
    study_start: Optional[dt.date] = _setting(
        None, "first daily partition, read when the code location loads",
        "a YYYY-MM-DD date, not after today (UTC)",
        "earliest `enrolled_on` of the roster, else 2024-01-01", "pipeline",
    )
    late_sync_days: int = _setting(
        3, "days before yesterday the daily schedule loads again, so late device syncs land", "an integer >= 0", "3",
        "pipeline", ge=0,
    )
    participants_per_run: int = _setting(
        250, "roster participants per run of the daily schedule (benchmarks/RESULTS.md \"UI path\")",
        "an integer >= 1", "250", "pipeline", ge=1,
    )
    # --- Adherence definitions (docs/adherence.md "Adherence definitions")
    worn_minute_min_samples: int = _setting(
        1, "a minute is worn with at least this many heart-rate samples", "an integer >= 1", "1", "adherence", ge=1,
    )
    valid_day_minutes: int = _setting(
        600, "a local day is valid with at least this many worn minutes (HeartSteps: 480)",
        "an integer from 0 to 1500", "600", "adherence", ge=0, le=1500,
    )
    impute_max_gap_minutes: int = _setting(
        5, "interior gaps of at most this many minutes are interpolated and flagged imputed",
        "an integer from 0 to 1440", "5", "adherence", ge=0, le=1440,
    )
    partial_wear_pct: float = _setting(
        60.0, "a local day is partially worn below this % of its minutes, valid or not ([Coordinator "
        "status](adherence.md#coordinator-status))", "a number above 0, at most 100", "60", "adherence", gt=0, le=100,
    )
    partial_wear_days: int = _setting(
        4, "partial-day wear (a coordinator status) when at least this many of the last 7 local days were "
        "partially worn", "an integer from 1 to 7", "4", "adherence", ge=1, le=7,
    )
    # --- Alert channel (coordinator alerts and the dashboard's "contact participant")
    alert_smtp_host: Optional[str] = _setting(
        None, "SMTP server; email is on when this and `FITBIT_ALERT_SMTP_TO` are set", "a host name", "unset (off)",
        "alerts",
    )
    alert_smtp_port: int = _setting(587, "SMTP port", "an integer from 1 to 65535", "587", "alerts", ge=1, le=65535)
    alert_smtp_tls: Literal["auto", "starttls", "ssl", "none"] = _setting(
        "auto", "`auto`: STARTTLS when the server offers it", "one of auto, starttls, ssl, none", "auto", "alerts",
    )
    alert_smtp_user: Optional[str] = _setting(None, "SMTP login", "a user name", "unset (no login)", "alerts")
    alert_smtp_password: Optional[SecretStr] = _setting(
        None, "SMTP password (secret)", "any text", "unset", "alerts",
    )
    alert_smtp_from: str = _setting(
        "fitbit-assets@localhost", "sender address", "an email address", "fitbit-assets@localhost", "alerts",
    )
    alert_smtp_to: Optional[str] = _setting(
        None, "coordinator addresses, comma-separated", "email addresses separated by commas", "unset (off)", "alerts",
    )
    alert_engineer_to: Optional[str] = _setting(
        None, "data-engineer addresses, comma-separated, for data-quality alerts (quarantined days, check mismatches, "
        "failed runs); never sent to coordinators", "email addresses separated by commas", "unset (not emailed)",
        "alerts",
    )
    alert_webhook_url: Optional[SecretStr] = _setting(
        None, "JSON POST per message of either audience (`audience`, `participant_id`, `local_date`, `subject`, "
        "`text`, `alerts[]`) (secret)",
        "an http:// or https:// URL", "unset (off)", "alerts",
    )
    alert_webhook_token: Optional[SecretStr] = _setting(
        None, "bearer token sent to the webhook (secret)", "any text", "unset", "alerts",
    )
    # --- HTTP API and dashboard (docs/api.md)
    api_dsn: Optional[SecretStr] = _setting(
        None, "database the API reads", "a libpq DSN (host=... dbname=...) or a postgresql:// URL",
        "the warehouse", "api",
    )
    api_role: str = _setting(
        "fitbit_api_reader", "login role the API connects as (the DSN's user is replaced; never a superuser, no "
        "SET ROLE); `none`: the DSN's own user", "a PostgreSQL role name, or none", "fitbit_api_reader", "api",
    )
    api_auth: Literal["auto", "on", "off"] = _setting(
        "auto", "sign-in: `on` named users (`fitbit-assets users`), `off` none (loopback only), `auto` on as soon as "
        "a user exists (read at start)", "one of auto, on, off", "auto", "api",
    )
    api_allowed_hosts: str = _setting(
        "127.0.0.1,localhost", "Host header values the API answers (DNS-rebinding guard), comma-separated",
        "host names separated by commas", "127.0.0.1,localhost", "api",
    )
    api_pool_size: int = _setting(
        8, "database connections of the API", "an integer from 1 to 100", "8", "api", ge=1, le=100,
    )
    api_pool_wait_seconds: float = _setting(
        5.0, "how long a request waits for a free database connection before its 503", "a number > 0", "5", "api",
        gt=0,
    )
    api_max_rows: int = _setting(
        50_000, "most rows one response may hold (cohort adherence: participants x days)", "an integer >= 1",
        "50000", "api", ge=1,
    )
    api_max_body_bytes: int = _setting(
        65_536, "largest request body, refused before sign-in is checked", "an integer >= 1024", "65536", "api",
        ge=1024,
    )
    api_max_points: int = _setting(
        2000, "default and upper limit of points per series response", "an integer >= 1", "2000", "api", ge=1,
    )
    api_max_range_days: int = _setting(
        1830, "longest series / adherence range accepted", "an integer >= 1", "1830", "api", ge=1,
    )

    # --- Google Health API connector (docs/google-health.md); inert without google_health participants
    google_client_id: Optional[str] = _setting(
        None, "OAuth client id of the study's Google Cloud project", "an OAuth client id", "unset (connector off)",
        "google_health",
    )
    google_client_secret: Optional[SecretStr] = _setting(
        None, "OAuth client secret (secret)", "any text", "unset (PKCE only)", "google_health",
    )
    token_encryption_key: Optional[SecretStr] = _setting(
        None, "Fernet key that encrypts participants' OAuth tokens in the warehouse (secret; "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)",
        "a url-safe base64 32-byte key", "unset (connector off)", "google_health",
    )
    google_api_url: str = _setting(
        "https://health.googleapis.com", "Google Health API endpoint (tests point it at a loopback fake)",
        "an http(s) URL", "https://health.googleapis.com", "google_health",
    )
    google_oauth_url: str = _setting(
        "https://accounts.google.com/o/oauth2/v2/auth", "OAuth authorization endpoint", "an http(s) URL",
        "https://accounts.google.com/o/oauth2/v2/auth", "google_health",
    )
    google_token_url: str = _setting(
        "https://oauth2.googleapis.com/token", "OAuth token endpoint", "an http(s) URL",
        "https://oauth2.googleapis.com/token", "google_health",
    )
    google_user_requests_per_minute: int = _setting(
        150, "Google Health API requests per participant and minute (unverified apps: 2.5 QPS; verified: 300)",
        "an integer >= 1", "150", "google_health", ge=1,
    )
    google_project_requests_per_minute: int = _setting(
        15000, "Google Health API requests per minute of the whole project, shared by every concurrent run "
        "(unverified apps: 250 QPS; verified: 120000)", "an integer >= 1", "15000", "google_health", ge=1,
    )
    google_data_source_family: str = _setting(
        "google-wearables", "dataSourceFamily of list requests: google-wearables (the device only), google-sources "
        "(also manual entries and Health Connect) or all-sources", "google-wearables, google-sources or all-sources",
        "google-wearables", "google_health", pattern="^(google-wearables|google-sources|all-sources)$",
    )
    google_webhook_authorization: Optional[SecretStr] = _setting(
        None, "the Authorization header value Google sends to the notification receiver (the subscriber's "
        "EndpointAuthorization.secret, e.g. `Bearer <random>`; secret)", "any text", "unset (receiver off)",
        "google_health",
    )
    google_webhook_public_key_path: Optional[Path] = _setting(
        None, "PEM file of Google Health API's ECDSA P-256 public key that signs notifications", "a file path",
        "unset (receiver off)", "google_health",
    )
    google_subscriber: Optional[str] = _setting(
        None, "the study's push subscriber, created once with the MANUAL subscription policy: each enrolled "
        "participant's subscription is created, renewed and deleted with their enrolment and consent",
        "projects/<project>/subscribers/<subscriber id>", "unset (no per-participant subscriptions)",
        "google_health", pattern="^projects/[^/]+/subscribers/[a-z][a-z0-9-]{2,34}[a-z0-9]$",
    )
    google_subscriber_credentials_path: Optional[Path] = _setting(
        None, "service-account key file (JSON) with the cloud-platform scope and the health.subscriptions "
        "permissions, for the subscription calls", "a file path",
        "unset (Application Default Credentials)", "google_health",
    )

    @field_validator("warehouse_dsn", "api_dsn")
    @classmethod
    def _libpq_dsn(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None:
            try:
                psycopg2.extensions.parse_dsn(value.get_secret_value())
            except psycopg2.ProgrammingError:
                # libpq's own message would quote a part of the DSN, which may be the password.
                raise ValueError("not a DSN") from None
        return value

    @field_validator("study_start")
    @classmethod
    def _not_in_the_future(cls, value: Optional[dt.date]) -> Optional[dt.date]:
        # Dagster refuses a partitions definition that starts after now.
        if value is not None and value > dt.datetime.now(dt.timezone.utc).date():
            raise ValueError("in the future")
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value

    @field_validator("google_api_url", "google_oauth_url", "google_token_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_key(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None:
            from cryptography.fernet import Fernet

            try:
                Fernet(value.get_secret_value().encode())
            except (ValueError, TypeError):
                raise ValueError("not a Fernet key") from None
        return value

    @field_validator("state_dir", "landing_dir", "parquet_dir", "roster_path")
    @classmethod
    def _absolute(cls, value: Optional[Path]) -> Optional[Path]:
        # Dagster's processes (webserver, daemon, run workers) do not share one working directory.
        return value.absolute() if value is not None else None

    @model_validator(mode="after")
    def _folders_under_the_state_dir(self) -> "Settings":
        # The model is frozen: the derived defaults are filled in once, here.
        state = self.state_dir or PROJECT_ROOT / ".state"
        object.__setattr__(self, "state_dir", state)
        for name, default in (
            ("landing_dir", state / "landing"),
            ("parquet_dir", state / "parquet"),
            ("roster_path", state / "roster.csv"),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        return self

    @property
    def api_reader_role(self) -> Optional[str]:
        return None if self.api_role.lower() == NO_ROLE else self.api_role


def variable(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def _is_secret(name: str) -> bool:
    return SecretStr in typing.get_args(Settings.model_fields[name].annotation)


def _message(error: dict[str, Any], environ: dict[str, str]) -> str:
    name = str(error["loc"][0])
    extra = Settings.model_fields[name].json_schema_extra
    value = environ.get(variable(name))
    shown = "(value hidden: secret)" if _is_secret(name) else f"{value!r}"
    return f"{variable(name)}={shown}: must be {extra['allowed']} (default {extra['default_doc']})"


def load() -> Settings:
    """The settings from the environment; raises ``SettingsError`` naming every invalid variable."""
    try:
        return Settings()
    except ValidationError as exc:
        # Case-insensitive like pydantic-settings, so the message shows the value that was read.
        environ = {key.upper(): value for key, value in os.environ.items()}
        raise SettingsError("; ".join(_message(error, environ) for error in exc.errors())) from None


def documented_variables() -> list[str]:
    return [variable(name) for name in Settings.model_fields]


def settings_table() -> str:
    """The settings table of docs/configuration.md (Markdown), one row per setting, grouped as in the model."""
    lines = ["| variable | default | allowed | meaning |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra
        lines.append(f"| `{variable(name)}` | {extra['default_doc']} | {extra['allowed']} | {info.description} |")
    return "\n".join(lines)
