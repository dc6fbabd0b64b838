"""The alert channel (``serving/alert_channel.py``) as the alert sensor's Dagster resource."""

import dagster as dg

from fitbit_assets.serving.alert_channel import AlertChannel, alert_settings
from fitbit_assets.settings import Settings, variable


class AlertChannelResource(dg.ConfigurableResource, AlertChannel):
    # The docstring is the resource's description in the Dagster UI.
    """Where coordinator alerts go. Email needs smtp_host and smtp_to; the webhook needs webhook_url."""


def alert_channel_from_settings(configured: Settings) -> AlertChannelResource:
    """The channel resource from the validated ``FITBIT_ALERT_*`` settings; secrets stay ``dg.EnvVar`` references
    (read at run time, never stored in the definitions or shown in the UI)."""
    return AlertChannelResource(**alert_settings(configured, lambda name, _value: dg.EnvVar(variable(name))))
