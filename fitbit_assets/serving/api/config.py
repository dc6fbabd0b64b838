"""The API's settings (``FITBIT_API_*``, ``FITBIT_ALERT_*``), read once when the app is built."""

from dataclasses import dataclass, field
from typing import Callable, Optional

from pydantic import SecretStr

from fitbit_assets import settings
from fitbit_assets.defs.alerts.channel import AlertChannelResource, alert_channel_from_settings
from fitbit_assets.serving.api.db import DEFAULT_READER_ROLE
from fitbit_assets.serving.query import DEFAULT_MAX_POINTS


def alert_channel_from_environment() -> AlertChannelResource:
    """The alert channel from the FITBIT_ALERT_* settings (secrets resolved now: the API runs outside Dagster)."""
    return alert_channel_from_settings(settings.load(), resolve_secrets=True)


def _secret(value: Optional[SecretStr]) -> Optional[str]:
    return value.get_secret_value() if value is not None else None


@dataclass
class ApiConfig:
    dsn: Optional[str] = None  # None: the warehouse DSN (embedded PostgreSQL when FITBIT_WAREHOUSE_DSN is unset)
    role: Optional[str] = DEFAULT_READER_ROLE
    token: Optional[str] = None
    max_points: int = DEFAULT_MAX_POINTS
    max_range_days: int = 1830
    alert_channel: Callable[[], AlertChannelResource] = field(default=alert_channel_from_environment)

    @classmethod
    def from_env(cls) -> "ApiConfig":
        """The FITBIT_API_* settings, validated (a bad one raises ``SettingsError`` naming it)."""
        configured = settings.load()
        return cls(
            dsn=_secret(configured.api_dsn),
            role=configured.api_reader_role,
            token=_secret(configured.api_token),
            max_points=configured.api_max_points,
            max_range_days=configured.api_max_range_days,
        )

    def resolved_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        from fitbit_assets.warehouse.resource import WarehouseResource

        warehouse = WarehouseResource(dsn=_secret(settings.load().warehouse_dsn))
        with warehouse.connection():  # the schema (and the reader role) exist before the API reads
            pass
        return warehouse.resolved_dsn()
