"""The API's settings (``FITBIT_API_*``, ``FITBIT_ALERT_*``), read once when the app is built."""

from dataclasses import dataclass, field
from typing import Callable, Literal, Optional

from pydantic import SecretStr

from fitbit_assets import settings
from fitbit_assets.domain.coordinator_status import StatusRules
from fitbit_assets.serving.alert_channel import AlertChannel, resolved_alert_channel
from fitbit_assets.serving.api.db import DEFAULT_READER_ROLE
from fitbit_assets.serving.query import DEFAULT_MAX_POINTS, status_rules
from fitbit_assets.warehouse.database import Warehouse

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def alert_channel_from_environment() -> AlertChannel:
    """The alert channel from the FITBIT_ALERT_* settings."""
    return resolved_alert_channel(settings.load())


def token_key_from_environment() -> Optional[str]:
    """FITBIT_TOKEN_ENCRYPTION_KEY: it also encrypts participants' contact details."""
    return _secret(settings.load().token_encryption_key)


def _secret(value: Optional[SecretStr]) -> Optional[str]:
    return value.get_secret_value() if value is not None else None


@dataclass
class ApiConfig:
    dsn: Optional[str] = None  # None: the warehouse DSN (embedded PostgreSQL when FITBIT_WAREHOUSE_DSN is unset)
    role: Optional[str] = DEFAULT_READER_ROLE  # the login role, in place of the DSN's user; None: the DSN's user
    auth: Literal["auto", "on", "off"] = "auto"
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    pool_size: int = 8
    pool_wait_seconds: float = 5.0
    max_points: int = DEFAULT_MAX_POINTS
    max_range_days: int = 1830
    max_rows: int = 50_000
    max_body_bytes: int = 65_536
    # The cohort's status rules, read with the other settings (loading the settings took ~5 ms a request).
    status_rules: StatusRules = field(default_factory=lambda: status_rules(settings.load()))
    alert_channel: Callable[[], AlertChannel] = field(default=alert_channel_from_environment)
    token_key: Callable[[], Optional[str]] = field(default=token_key_from_environment)

    @classmethod
    def from_env(cls) -> "ApiConfig":
        """The FITBIT_API_* settings, validated (a bad one raises ``SettingsError`` naming it)."""
        configured = settings.load()
        return cls(
            dsn=_secret(configured.api_dsn),
            role=configured.api_reader_role,
            auth=configured.api_auth,
            allowed_hosts=tuple(h.strip() for h in configured.api_allowed_hosts.split(",") if h.strip()),
            pool_size=configured.api_pool_size,
            pool_wait_seconds=configured.api_pool_wait_seconds,
            max_points=configured.api_max_points,
            max_range_days=configured.api_max_range_days,
            max_rows=configured.api_max_rows,
            max_body_bytes=configured.api_max_body_bytes,
            status_rules=status_rules(configured),
        )

    def resolved_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        warehouse = Warehouse(dsn=_secret(settings.load().warehouse_dsn))
        with warehouse.connection():  # the schema (and the API's login role) exist before the API reads
            pass
        return warehouse.resolved_dsn()
