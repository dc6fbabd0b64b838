"""Where alerts go: email (SMTP) to each audience's addresses and/or a JSON webhook. Both are off until
configured; credentials come from environment variables only.

Without Dagster: the API sends participant reminders through it; ``defs/alerts/channel.py`` makes it the alert
sensor's resource.
"""

import json
import smtplib
import ssl
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, Field, SecretStr

from fitbit_assets.settings import Settings

if TYPE_CHECKING:
    from fitbit_assets.defs.alerts.messages import Message

# Who acts on an alert (defs/alerts/messages.py sorts the kinds): each audience has its own addresses.
COORDINATOR = "coordinator"
ENGINEER = "data engineer"


class AlertDeliveryError(RuntimeError):
    """A configured channel did not accept a message (it is retried on the next tick)."""


class AlertChannel(BaseModel):
    """Email and/or webhook delivery, configured by the ``FITBIT_ALERT_*`` settings (``alert_settings``)."""

    smtp_host: Optional[str] = Field(default=None, description="SMTP server; unset = no email")
    smtp_port: int = Field(default=587, description="SMTP port (587 submission, 465 SMTPS, 25 relay)")
    smtp_tls: Literal["auto", "starttls", "ssl", "none"] = Field(
        default="auto", description="auto = STARTTLS when the server offers it"
    )
    smtp_user: Optional[str] = Field(default=None, description="SMTP login user (optional)")
    smtp_password: Optional[str] = Field(default=None, description="SMTP password; set via FITBIT_ALERT_SMTP_PASSWORD")
    smtp_from: str = Field(default="fitbit-assets@localhost", description="Envelope and header sender")
    smtp_to: Optional[str] = Field(default=None, description="Comma-separated coordinator addresses")
    engineer_to: Optional[str] = Field(
        default=None,
        description="Comma-separated data-engineer addresses for data-quality alerts (failed checks, quarantined "
        "days, failed runs); unset = those are not emailed (coordinators never get them)",
    )
    webhook_url: Optional[str] = Field(default=None, description="URL that receives a JSON POST per message")
    webhook_token: Optional[str] = Field(default=None, description="Bearer token; set via FITBIT_ALERT_WEBHOOK_TOKEN")
    timeout_seconds: float = Field(default=10.0, description="Network timeout per delivery")

    def recipients(self, audience: str) -> list[str]:
        addresses = self.smtp_to if audience == COORDINATOR else self.engineer_to
        return [address.strip() for address in (addresses or "").split(",") if address.strip()]

    def channels(self, audience: str = COORDINATOR) -> list[str]:
        """Channels that deliver to ``audience``: email to its addresses; the webhook gets every message (its JSON
        names the audience)."""
        enabled = []
        if self.smtp_host and self.recipients(audience):
            enabled.append("email")
        if self.webhook_url:
            enabled.append("webhook")
        return enabled

    def send_email(self, message: "Message") -> None:
        recipients = self.recipients(message.audience)
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.smtp_from
        email["To"] = ", ".join(recipients)
        email["X-Fitbit-Alert-Key"] = f"{message.participant_id}/{message.local_date.isoformat()}/{','.join(message.kinds)}"
        email.set_content(message.text)
        self.deliver_email(email, recipients)

    def deliver_email(self, email: EmailMessage, recipients: list[str]) -> None:
        """Send ``email`` to ``recipients`` through the configured SMTP server (also the participant reminders)."""
        context = ssl.create_default_context()
        if self.smtp_tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds)
        with client:
            client.ehlo()
            if self.smtp_tls == "starttls" or (self.smtp_tls == "auto" and client.has_extn("starttls")):
                client.starttls(context=context)
                client.ehlo()
            if self.smtp_user:
                client.login(self.smtp_user, self.smtp_password or "")
            client.send_message(email, from_addr=self.smtp_from, to_addrs=recipients)

    def send_webhook(self, message: "Message") -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "fitbit-assets-alerts"}
        if self.webhook_token:
            headers["Authorization"] = f"Bearer {self.webhook_token}"
        request = urllib.request.Request(
            self.webhook_url, data=json.dumps(message.payload()).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            if not 200 <= response.status < 300:
                raise AlertDeliveryError(f"webhook answered HTTP {response.status}")

    def send(self, message: "Message") -> list[str]:
        """Deliver on every configured channel; raises AlertDeliveryError if any of them failed."""
        delivered, errors = [], []
        for channel in self.channels(message.audience):
            try:
                (self.send_email if channel == "email" else self.send_webhook)(message)
                delivered.append(channel)
            except Exception as exc:  # noqa: BLE001 - report every channel's failure together
                errors.append(f"{channel}: {type(exc).__name__}: {exc}")
        if errors:
            raise AlertDeliveryError("; ".join(errors))
        return delivered


def alert_settings(configured: Settings, secret: Callable[[str, SecretStr], object]) -> dict[str, object]:
    """The ``FITBIT_ALERT_*`` settings that are set, as the channel's fields; ``secret(name, value)`` is the field of a
    secret setting."""
    config = {}
    for name, value in configured:
        if name.startswith("alert_") and value is not None:
            config[name.removeprefix("alert_")] = secret(name, value) if isinstance(value, SecretStr) else value
    return config


def resolved_alert_channel(configured: Settings) -> AlertChannel:
    """The channel with its secrets read now (the API runs outside Dagster)."""
    return AlertChannel(**alert_settings(configured, lambda _name, value: value.get_secret_value()))
