"""Coordinator alerts: failed asset checks and failed runs -> one message per participant and day.

A failed non-blocking check does not fail its run (dagster-io/dagster#29896), so run-failure sensors never see
it: ``coordinator_alert_sensor`` follows finished runs in the event log with a cursor (RUN_SUCCESS and
RUN_FAILURE records), reads each run's ASSET_CHECK_EVALUATION events, turns failed evaluations and failed runs
into alerts keyed (participant, local day, kind), drops keys already delivered (table
``alert_sent``), groups the rest into one message per participant-day and sends it by email (SMTP) and/or a
JSON webhook. Both channels are off until configured; credentials come from environment variables only.

The conversion and de-duplication are pure functions (tested without Dagster); the sensor does the I/O.
"""


import datetime as dt
import json
import smtplib
import ssl
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal, Optional

import dagster as dg
from pydantic import Field, SecretStr

from fitbit_assets.domain.device_sync import DayStatus
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets.settings import Settings, variable
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.sql_files import sql_query

VALID_DAY_CHECK = "daily_adherence_valid_day"  # same name as fitbit_assets.defs.adherence.checks
RUN_FAILED = "run_failed"
RECONSENT_NEEDED = "reconsent_needed"  # Google Health API consent gone (fitbit_assets/google_health/tokens.py)
NON_ADHERENT = "non_adherent"  # an invalid day whose cause sync records cannot tell
NOT_WEARING = DayStatus.NOT_WEARING.value
NOT_SYNCING = DayStatus.NOT_SYNCING.value
SUBJECTS = {
    NON_ADHERENT: "not a valid wear day",
    NOT_WEARING: "not wearing the device (synced, too little heart rate)",
    NOT_SYNCING: "device not syncing (the day's data may still be on it)",
    RUN_FAILED: "pipeline run failed",
    RECONSENT_NEEDED: "re-consent needed (Google Health API access revoked or expired)",
}
# Who acts on an alert: coordinators on a participant's wear and sync behaviour; the data engineer on data that
# failed a check (quarantined files, row mismatches) and failed runs, which a coordinator cannot fix.
COORDINATOR = "coordinator"
ENGINEER = "data engineer"
COORDINATOR_KINDS = (NON_ADHERENT, NOT_WEARING, NOT_SYNCING, RECONSENT_NEEDED)
ANY_PARTICIPANT = "*"
BATCH_LIMIT = 500
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"

AlertKey = tuple[str, dt.date, str]


# --------------------------------------------------------------------------------------------------- pure part


@dataclass(frozen=True)
class Alert:
    participant_id: str
    local_date: dt.date
    kind: str
    text: str
    source: str = ""  # run id / check name, for the coordinator's follow-up

    @property
    def key(self) -> AlertKey:
        return (self.participant_id, self.local_date, self.kind)

    @property
    def audience(self) -> str:
        return COORDINATOR if self.kind in COORDINATOR_KINDS else ENGINEER


@dataclass(frozen=True)
class Message:
    participant_id: str
    local_date: dt.date
    alerts: tuple[Alert, ...] = field(default_factory=tuple)

    @property
    def kinds(self) -> list[str]:
        return [alert.kind for alert in self.alerts]

    @property
    def audience(self) -> str:
        return self.alerts[0].audience  # plan_messages groups alerts by audience

    @property
    def subject(self) -> str:
        who = "pipeline" if self.participant_id == ANY_PARTICIPANT else self.participant_id
        if len(self.alerts) == 1:
            what = SUBJECTS.get(self.alerts[0].kind, self.alerts[0].kind.replace("check:", "check failed: "))
        else:
            what = f"{len(self.alerts)} issues"
        return f"[fitbit-assets] {who} {self.local_date.isoformat()}: {what}"

    @property
    def text(self) -> str:
        lines = [f"Participant: {self.participant_id}", f"Local day: {self.local_date.isoformat()}", ""]
        for alert in self.alerts:
            lines.append(f"- {alert.kind}: {alert.text}" + (f" ({alert.source})" if alert.source else ""))
        return "\n".join(lines) + "\n"

    def payload(self) -> dict:
        return {
            "participant_id": self.participant_id,
            "local_date": self.local_date.isoformat(),
            "audience": self.audience,
            "subject": self.subject,
            "text": self.text,
            "alerts": [{"kind": a.kind, "text": a.text, "source": a.source} for a in self.alerts],
        }


def _parse_day(text: str) -> Optional[ParticipantDayKey]:
    """``participant/YYYY-MM-DD`` (check metadata) or ``YYYY-MM-DD|participant`` (partition key)."""
    try:
        if "|" in text:
            return ParticipantDayKey.parse(text)
        participant_id, date = text.rsplit("/", 1)
        return ParticipantDayKey(dt.date.fromisoformat(date), participant_id)
    except (ValueError, KeyError):
        return None


def alerts_from_check_evaluation(
    check_name: str,
    passed: bool,
    partition: Optional[str],
    metadata: Mapping[str, object],
    description: Optional[str],
    occurred_at: dt.datetime,
    source: str = "",
) -> list[Alert]:
    """Alerts for one check evaluation (none when it passed), attributed to participant-days.

    Attribution, first that applies: the valid-day check's per-day metadata (participant_id/local_date/reason,
    kind ``not_wearing`` / ``not_syncing`` from its ``day_status`` when sync records tell, else ``non_adherent``)
    or its ``non_adherent`` list; ``failed_days`` / ``mismatches[].day`` of the other checks; the evaluation's
    partition; otherwise the whole pipeline (participant ``*``) on the UTC day of the evaluation.
    """
    if passed:
        return []
    kind = NON_ADHERENT if check_name == VALID_DAY_CHECK else f"check:{check_name}"
    source = source or check_name
    if "participant_id" in metadata and "local_date" in metadata:
        entries = [metadata]
    else:
        entries = [e for e in (metadata.get("non_adherent") or []) if isinstance(e, Mapping)]
    alerts = [
        Alert(
            str(e["participant_id"]),
            dt.date.fromisoformat(str(e["local_date"])),
            # A day first "not syncing" and later "not wearing" (it synced, nothing came) is a new message.
            str(e["day_status"]) if kind == NON_ADHERENT and e.get("day_status") in (NOT_WEARING, NOT_SYNCING) else kind,
            str(e.get("reason") or description or f"check {check_name} failed"),
            source,
        )
        for e in entries
        if "participant_id" in e and "local_date" in e
    ]
    if alerts:
        return alerts
    days: list[ParticipantDayKey] = []
    for text in metadata.get("failed_days") or []:
        day = _parse_day(str(text))
        if day:
            days.append(day)
    for mismatch in metadata.get("mismatches") or []:
        day = _parse_day(str(mismatch.get("day", ""))) if isinstance(mismatch, Mapping) else None
        if day:
            days.append(day)
    if not days and partition:
        day = _parse_day(partition)
        if day:
            days.append(day)
    text = description or f"asset check {check_name} failed"
    if not days:
        return [Alert(ANY_PARTICIPANT, occurred_at.astimezone(dt.timezone.utc).date(), kind, text, source)]
    return [Alert(day.participant_id, day.local_date, kind, text, source) for day in dict.fromkeys(days)]


def alerts_from_run_failure(
    run_id: str, job_name: str, tags: Mapping[str, str], message: str, failed_at: dt.datetime
) -> list[Alert]:
    """One alert for a failed run, on the last participant-day it covered (so a re-run of the same range
    does not alert again); runs without partitions go to participant ``*`` on the UTC day of the failure."""
    last = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    day = _parse_day(last) if last else None
    text = f"run of {job_name} failed: {message}".strip()
    source = f"run {run_id}"
    if day is None:
        return [Alert(ANY_PARTICIPANT, failed_at.astimezone(dt.timezone.utc).date(), RUN_FAILED, text, source)]
    return [Alert(day.participant_id, day.local_date, RUN_FAILED, text, source)]


def alerts_from_consent(rows: Iterable[tuple[str, str, Optional[str], dt.datetime]]) -> list[Alert]:
    """(participant_id, consent_state, reason, changed_at) rows of ``participant_consent`` -> one alert per lost
    consent, keyed by the day it was lost (a later loss after a re-consent alerts again)."""
    return [
        Alert(participant_id, changed_at.date(), RECONSENT_NEEDED,
              f"Participant {participant_id} must consent again with `fitbit-assets connect {participant_id}`: "
              f"{reason or 'consent withdrawn'} (since {changed_at:%Y-%m-%d %H:%M} UTC). No data is pulled until then.",
              "google_health_pull")
        for participant_id, state, reason, changed_at in rows
        if state == RECONSENT_NEEDED
    ]


def consent_alerts(conn) -> list[Alert]:
    with conn.cursor() as cur:
        cur.execute(sql_query("consent_reconsent_needed"))
        return alerts_from_consent(cur.fetchall())


def plan_messages(alerts: Iterable[Alert], already_sent: set[AlertKey]) -> list[Message]:
    """Drop alerts whose key was delivered before or repeats within the batch (the latest text wins), then
    group the rest into one message per audience, participant and local day."""
    latest: dict[AlertKey, Alert] = {}
    for alert in alerts:
        if alert.key not in already_sent:
            latest[alert.key] = alert
    grouped: dict[tuple[str, str, dt.date], list[Alert]] = {}
    for alert in latest.values():
        grouped.setdefault((alert.audience, alert.participant_id, alert.local_date), []).append(alert)
    return [
        Message(participant_id, local_date, tuple(sorted(group, key=lambda a: a.kind)))
        for (_, participant_id, local_date), group in sorted(grouped.items())
    ]


@dataclass(frozen=True)
class AlertCursor:
    """Last processed run-status event-log storage ids: finished runs (their check evaluations) and failed runs."""

    success_storage_id: int = 0
    failure_storage_id: int = 0

    @classmethod
    def parse(cls, cursor: Optional[str]) -> "AlertCursor":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(int(data.get("success", 0)), int(data.get("failure", 0)))

    def serialize(self) -> str:
        return json.dumps({"success": self.success_storage_id, "failure": self.failure_storage_id})


# -------------------------------------------------------------------------------------------------- channels


class AlertDeliveryError(RuntimeError):
    """A configured channel did not accept a message (it is retried on the next tick)."""


class AlertChannelResource(dg.ConfigurableResource):
    """Where coordinator alerts go. Email needs smtp_host and smtp_to; the webhook needs webhook_url."""

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

    def send_email(self, message: Message) -> None:
        recipients = self.recipients(message.audience)
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.smtp_from
        email["To"] = ", ".join(recipients)
        email["X-Fitbit-Alert-Key"] = f"{message.participant_id}/{message.local_date.isoformat()}/{','.join(message.kinds)}"
        email.set_content(message.text)
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

    def send_webhook(self, message: Message) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "fitbit-assets-alerts"}
        if self.webhook_token:
            headers["Authorization"] = f"Bearer {self.webhook_token}"
        request = urllib.request.Request(
            self.webhook_url, data=json.dumps(message.payload()).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            if not 200 <= response.status < 300:
                raise AlertDeliveryError(f"webhook answered HTTP {response.status}")

    def send(self, message: Message) -> list[str]:
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


def alert_channel_from_settings(configured: Settings, *, resolve_secrets: bool = False) -> AlertChannelResource:
    """The channel resource from the validated ``FITBIT_ALERT_*`` settings.

    In the code location secrets stay ``dg.EnvVar`` references (read at run time, never stored in the definitions
    or shown in the UI); the API, which runs outside Dagster, resolves them (``resolve_secrets``).
    """
    config = {}
    for name, value in configured:
        if name.startswith("alert_") and value is not None:
            if isinstance(value, SecretStr):
                value = value.get_secret_value() if resolve_secrets else dg.EnvVar(variable(name))
            config[name.removeprefix("alert_")] = value
    return AlertChannelResource(**config)


# ---------------------------------------------------------------------------------------------------- sensor


def _metadata_values(metadata: Mapping[str, object]) -> dict[str, object]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _check_alerts_of_run(instance: dg.DagsterInstance, run_id: str) -> list[Alert]:
    alerts = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.partition is None:
            continue  # a check's summary over many participant-days; each day has an evaluation of its own
        alerts.extend(
            alerts_from_check_evaluation(
                evaluation.check_name,
                evaluation.passed,
                evaluation.partition,
                _metadata_values(evaluation.metadata),
                evaluation.description,
                dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc),
                source=f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}, run {run_id}",
            )
        )
    return alerts


def collect_alerts(instance: dg.DagsterInstance, cursor: AlertCursor) -> tuple[list[Alert], AlertCursor]:
    """New alerts since ``cursor``, and the cursor after them.

    Finished runs are found through run-status records (RUN_SUCCESS / RUN_FAILURE), which carry global storage
    ids on every event-log storage (also the run-sharded SQLite one of ``make dev``); the check evaluations are
    then read from each finished run's own event log.
    """
    from dagster._core.event_api import RunStatusChangeRecordsFilter

    alerts: list[Alert] = []
    success_id, failure_id = cursor.success_storage_id, cursor.failure_storage_id
    for event_type, after in (
        (dg.DagsterEventType.RUN_SUCCESS, cursor.success_storage_id),
        (dg.DagsterEventType.RUN_FAILURE, cursor.failure_storage_id),
    ):
        records = instance.fetch_run_status_changes(
            RunStatusChangeRecordsFilter(event_type, after_storage_id=after or None), limit=BATCH_LIMIT, ascending=True
        ).records
        for record in records:
            alerts.extend(_check_alerts_of_run(instance, record.run_id))
            if event_type == dg.DagsterEventType.RUN_SUCCESS:
                success_id = max(success_id, record.storage_id)
                continue
            failure_id = max(failure_id, record.storage_id)
            run = instance.get_run_by_id(record.run_id)
            event = record.event_log_entry.dagster_event
            alerts.extend(
                alerts_from_run_failure(
                    record.run_id,
                    run.job_name if run else "?",
                    run.tags if run else {},
                    " ".join(
                        filter(None, [(event.message if event else None) or record.event_log_entry.user_message]
                               + _step_failures(instance, record.run_id))
                    ),
                    dt.datetime.fromtimestamp(record.timestamp, dt.timezone.utc),
                )
            )
    return alerts, AlertCursor(success_id, failure_id)


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """What failed inside the run, for the coordinator (e.g. "no data yet for ...")."""
    reasons = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data
        user = data.user_failure_data
        detail = (user.description if user and user.description else None) or (data.error.message.strip() if data.error else "")
        reasons.append(f"Step {entry.step_key}: {detail[:500]}")
    return reasons


def already_sent(conn, alerts: Iterable[Alert]) -> set[AlertKey]:
    keys = list({alert.key for alert in alerts})
    if not keys:
        return set()
    with conn.cursor() as cur:
        cur.execute(
            sql_query("alert_sent_keys"),
            {
                "participant_ids": [k[0] for k in keys],
                "local_dates": [k[1] for k in keys],
                "kinds": [k[2] for k in keys],
            },
        )
        return {(participant_id, local_date, kind) for participant_id, local_date, kind in cur.fetchall()}


def record_sent(conn, message: Message, channels: list[str]) -> None:
    with transaction(conn) as cur:
        for alert in message.alerts:
            cur.execute(
                sql_query("alert_sent_insert"),
                {
                    "participant_id": alert.participant_id,
                    "local_date": alert.local_date,
                    "kind": alert.kind,
                    "channels": ",".join(channels),
                    "subject": message.subject,
                },
            )


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Failed asset checks (e.g. daily_adherence_valid_day, WARN), failed runs and Google Health "
    "participants whose consent is gone (re-consent needed) -> one message per "
    "participant and local day by email (FITBIT_ALERT_SMTP_*) and/or JSON webhook (FITBIT_ALERT_WEBHOOK_URL). "
    "Delivered keys are kept in the alert_sent table, so re-runs do not alert twice.",
)
def coordinator_alert_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alert_channel: AlertChannelResource
):
    cursor = AlertCursor.parse(context.cursor)
    alerts, next_cursor = collect_alerts(context.instance, cursor)
    routed = {audience: alert_channel.channels(audience) for audience in (COORDINATOR, ENGINEER)}
    if not any(routed.values()):
        # Events seen while no channel is configured are not replayed later (no flood on first configuration);
        # the warehouse is not touched, so an unconfigured sensor needs no database at all.
        context.update_cursor(next_cursor.serialize())
        messages = plan_messages(alerts, set())
        return dg.SkipReason(
            f"{len(messages)} message(s) not sent ({_count_by_audience(messages)}): no channel configured "
            "(FITBIT_ALERT_SMTP_HOST + FITBIT_ALERT_SMTP_TO / FITBIT_ALERT_ENGINEER_TO, or FITBIT_ALERT_WEBHOOK_URL)"
        )
    sent, unrouted, errors = [], [], []
    with warehouse.connection() as conn:
        alerts = [*alerts, *consent_alerts(conn)]
        messages = plan_messages(alerts, already_sent(conn, alerts))
        for message in messages:
            if not routed[message.audience]:
                unrouted.append(message)  # e.g. no FITBIT_ALERT_ENGINEER_TO: never sent to the other audience
                continue
            try:
                delivered = alert_channel.send(message)
            except AlertDeliveryError as exc:
                errors.append(f"{message.subject}: {exc}")
                continue
            record_sent(conn, message, delivered)
            sent.append(message.subject)
            context.log.info(f"sent {message.subject} to the {message.audience} via {', '.join(delivered)}")
    if errors:
        # The cursor stays put: the next tick retries; alert_sent keeps delivered messages from repeating.
        raise AlertDeliveryError(f"{len(errors)} of {len(messages)} message(s) not delivered: {'; '.join(errors[:5])}")
    context.update_cursor(next_cursor.serialize())
    reason = f"{len(sent)} message(s) sent" + (f": {sent[:10]}" if sent else "")
    if unrouted:
        reason += f"; {len(unrouted)} not sent, no channel for them ({_count_by_audience(unrouted)})"
    return dg.SkipReason(reason)


def _count_by_audience(messages: list[Message]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.audience] = counts.get(message.audience, 0) + 1
    return ", ".join(f"{count} for the {audience}" for audience, count in sorted(counts.items())) or "none"
