"""Google Health push to coordinator alert through the real daemon, for a test and a benchmark.

``open_push_path`` builds the whole chain around a state folder and a warehouse DSN:

- the loopback Google Health fake (``google_health_fake.py``) holding one ``google_health`` participant whose
  local day has an hour of heart rate (a non-adherent day), the participant's consent stored as ``connect`` stores it;
- the webhook receiver (``fitbit_assets.serving.api.google_health_webhook``) served by uvicorn on a loopback port,
  verifying Google's signature with the fake's key;
- a local SMTP sink (aiosmtpd) that notes when each message arrived, the coordinator's alert address pointing at it;
- the UI path of ``ui_path.open_ui_path``: a real instance, code location and daemon (``python -m
  fitbit_assets.daemon``), whose sensors (``google_health_notification_sensor`` every 30 s,
  ``coordinator_alert_sensor`` every 120 s) do the rest.

``PushPath.notify`` sends the fake's signed notification to the receiver; ``wait_for_alert`` waits for the
coordinator's e-mail and returns the times of each link of the chain.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import requests
import uvicorn
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet

from fitbit_assets.devtools.google_health_fake import FakeGoogleHealth, FakeServer
from fitbit_assets.devtools.ui_path import UiPath, open_ui_path, project_environment
from fitbit_assets.domain.roster import Participant
from fitbit_assets.google_health import SCOPES
from fitbit_assets.google_health.oauth import TokenResponse
from fitbit_assets.google_health.tokens import TokenStore
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG
from fitbit_assets.serving.api.google_health_webhook import PATH, WebhookConfig, create_webhook_app
from fitbit_assets.warehouse.resource import WarehouseResource

USER = "push-user"  # the participant's Google account in the fake
AUTHORIZATION = "Bearer push-path-secret"  # EndpointAuthorization.secret of the study's subscriber
COORDINATOR = "coordinator@study.test"
WORN_SECONDS = 3600  # an hour of heart rate: far below the 600-minute valid day


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TimedInbox:
    """aiosmtpd handler: (arrival epoch seconds, subject) of every message."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((time.time(), str(message["Subject"])))
        return "250 OK"


@dataclass(frozen=True)
class ChainTimes:
    """Epoch seconds of each link, from the notification's delivery to the coordinator's e-mail."""

    notified: float
    run_created: float  # the notification sensor's run request, queued
    run_started: float
    run_ended: float
    mailed: float
    run_status: str
    subject: str

    def seconds(self) -> dict[str, float]:
        return {"notification -> run queued": self.run_created - self.notified,
                "run queued -> started": self.run_started - self.run_created,
                "run (pull, load, adherence, checks)": self.run_ended - self.run_started,
                "run end -> alert e-mail": self.mailed - self.run_ended,
                "notification -> alert e-mail": self.mailed - self.notified}


@dataclass
class PushPath:
    ui: UiPath
    fake: FakeGoogleHealth
    receiver_url: str
    inbox: TimedInbox
    participant: Participant
    day: dt.date
    sent: list[float] = field(default_factory=list)

    def notify(self) -> float:
        """The fake's signed heart-rate notification for the day, delivered to the receiver; when it was accepted."""
        start = dt.datetime.combine(self.day, dt.time(9), tzinfo=self.participant.zone)
        body, headers = self.fake.notification(USER, "heart-rate", start, start + dt.timedelta(seconds=WORN_SECONDS))
        response = requests.post(self.receiver_url, data=body, headers={**headers, "Authorization": AUTHORIZATION},
                                 timeout=30)
        if response.status_code != 200 or response.json() != {"stored": 1, "unknown_users": 0}:
            raise AssertionError(f"the receiver refused the notification: {response.status_code} {response.text}")
        self.sent.append(time.time())
        return self.sent[-1]

    def wait_for_alert(self, timeout_s: float) -> ChainTimes:
        """Until the coordinator's e-mail for the participant arrived after the last notification."""
        notified = self.sent[-1]
        deadline = time.monotonic() + timeout_s
        while True:
            mails = [(at, subject) for at, subject in self.inbox.received
                     if at >= notified and self.participant.participant_id in subject]
            if mails:
                break
            if time.monotonic() > deadline:
                runs = self.ui.runs(tags={PARTICIPANTS_TAG: self.participant.participant_id})
                raise AssertionError(f"no alert e-mail {timeout_s:g} s after the notification; runs "
                                     f"{[(r.status, r.tags) for r in runs]}; mails {self.inbox.received}; daemon "
                                     f"log: {self.ui.daemon_log()[-4000:]}")
            time.sleep(1)
        mailed, subject = mails[0]
        runs = [r for r in self.ui.runs(tags={PARTICIPANTS_TAG: self.participant.participant_id})
                if r.created >= notified and r.ended is not None]
        if not runs:
            raise AssertionError(f"an alert arrived ({subject}) but no run followed the notification")
        run = runs[0]
        return ChainTimes(notified, run.created, run.started, run.ended, mailed, run.status, subject)


def _receiver(dsn: str, public_key_pem: str) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    config = uvicorn.Config(create_webhook_app(WebhookConfig(dsn, AUTHORIZATION, public_key_pem)), host="127.0.0.1",
                            port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the webhook receiver did not start within 30 s")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}{PATH}"


@contextmanager
def open_push_path(state_dir: Path, warehouse_dsn: str, day: dt.date) -> Iterator[PushPath]:
    """The chain for one ``google_health`` participant enrolled on ``day`` (a local day that has ended)."""
    participant = Participant("gh-push", 0, "Europe/Berlin", day, "google_health")
    fake = FakeGoogleHealth()
    inbox = TimedInbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    with FakeServer(fake) as api:
        environment = {
            "FITBIT_GOOGLE_API_URL": api.url, "FITBIT_GOOGLE_TOKEN_URL": api.url + "/token",
            "FITBIT_GOOGLE_OAUTH_URL": api.url + "/o/oauth2/v2/auth",
            "FITBIT_GOOGLE_CLIENT_ID": "study-client.apps.googleusercontent.com",
            "FITBIT_TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "FITBIT_ALERT_SMTP_HOST": "127.0.0.1", "FITBIT_ALERT_SMTP_PORT": str(smtp_port),
            "FITBIT_ALERT_SMTP_TLS": "none", "FITBIT_ALERT_SMTP_TO": COORDINATOR,
        }
        with project_environment(environment):
            # The consent as `fitbit-assets connect` stores it (the token exchange and identity are the fake's).
            issued = fake._issue(USER, refresh=True)
            tokens = TokenResponse(issued["access_token"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1),
                                   issued["refresh_token"], SCOPES)
            store = TokenStore(WarehouseResource(dsn=warehouse_dsn).connection, environment["FITBIT_TOKEN_ENCRYPTION_KEY"])
            store.save_consent(participant.participant_id, tokens, {"healthUserId": fake.health_user_id(USER)})
            fake.add_samples(USER, dt.datetime.combine(day, dt.time(9), tzinfo=participant.zone), WORN_SECONDS)
            smtp.start()
            receiver, thread, receiver_url = _receiver(warehouse_dsn, fake.webhook_public_key_pem())
            try:
                with open_ui_path(state_dir, warehouse_dsn, [participant]) as ui:
                    yield PushPath(ui, fake, receiver_url, inbox, participant, day)
            finally:
                receiver.should_exit = True
                thread.join(timeout=30)
                smtp.stop()
