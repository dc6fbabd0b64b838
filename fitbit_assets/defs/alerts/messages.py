"""Alerts and messages, pure: failed checks, failed runs and lost consents -> alerts keyed (participant, local day,
kind) -> one message per audience, participant and day, minus the keys delivered before."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from fitbit_assets.domain.coordinator_status import CoordinatorStatus, status_words
from fitbit_assets.lib.check_metadata import (
    DAY_STATUS,
    FAILING_PARTICIPANT_DAYS,
    LOCAL_DATE,
    PARTICIPANT_ID,
    REASON,
    VALID_DAY_CHECK,
)
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, PARTITION_TAG, RANGE_END_TAG
from fitbit_assets.serving.alert_channel import COORDINATOR, ENGINEER

RUN_FAILED = "run_failed"
ACCOUNT_NOT_LINKED = "account_not_linked"  # consented, no Google Health profile yet (ACCOUNT_NOT_LINKED)
LEGACY_ACCOUNT = "legacy_account"  # a legacy Fitbit account consented instead of a Google Account
DATA_WITHHELD = "data_withheld"  # some scopes not granted: their data types are not pulled
NON_ADHERENT = "non_adherent"  # an invalid day whose cause sync records cannot tell
# The coordinator's cases are named as on the dashboard and in the CLI (coordinator_status.status_words).
RECONSENT_NEEDED = CoordinatorStatus.RECONSENT_NEEDED.value  # Google Health API consent gone (google_health/tokens.py)
NOT_WEARING = CoordinatorStatus.NOT_WEARING.value
NOT_SYNCING = CoordinatorStatus.NOT_SYNCING.value
CHARGING_PATTERN = CoordinatorStatus.CHARGING_PATTERN.value
PARTIAL_WEAR = CoordinatorStatus.PARTIAL_WEAR.value
SUBJECTS = {
    NON_ADHERENT: "not a valid wear day",
    NOT_WEARING: f"{status_words(NOT_WEARING)} (the device synced, too little heart rate)",
    NOT_SYNCING: f"{status_words(NOT_SYNCING)} (the day's data may still be on the device)",
    CHARGING_PATTERN: f"{status_words(CHARGING_PATTERN)} (battery low)",
    PARTIAL_WEAR: f"{status_words(PARTIAL_WEAR)} (worn only part of each day)",
    RUN_FAILED: "pipeline run failed",
    RECONSENT_NEEDED: f"{status_words(RECONSENT_NEEDED)} (Google Health API access revoked or expired)",
    ACCOUNT_NOT_LINKED: "Google Health profile not set up (consented, but no data can be read)",
    LEGACY_ACCOUNT: "legacy Fitbit account consented (a Google Account is needed)",
    DATA_WITHHELD: "some data not shared (scopes not granted)",
}
# Who acts on an alert: coordinators on a participant's wear and sync behaviour; the data engineer on data that
# failed a check (quarantined files, row mismatches) and failed runs, which a coordinator cannot fix.
COORDINATOR_KINDS = (NON_ADHERENT, NOT_WEARING, NOT_SYNCING, CHARGING_PATTERN, PARTIAL_WEAR, RECONSENT_NEEDED,
                     ACCOUNT_NOT_LINKED, LEGACY_ACCOUNT, DATA_WITHHELD)
ANY_PARTICIPANT = "*"

AlertKey = tuple[str, dt.date, str]


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
    device: Optional[str] = None  # the device's own state now, in the cohort's words (coordinator_status.device_text)

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
            lines.append(f"- {kind_words(alert.kind)}: {alert.text}" + (f" ({alert.source})" if alert.source else ""))
        if self.device:
            lines += ["", f"Device: {self.device}"]
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


def kind_words(kind: str) -> str:
    """A coordinator case in the dashboard's words ("not wearing"), an invalid day the sync rule could not classify
    as the check says it ("not a valid wear day"), other kinds as they are."""
    if kind == NON_ADHERENT:
        return SUBJECTS[NON_ADHERENT]
    return status_words(kind) if kind in CoordinatorStatus._value2member_map_ else kind


def _local_date(text: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
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
    """The alerts of one day's check evaluation: one per failing participant-day it lists (none when it passed).
    An evaluation without a day partition is a check's summary of days that have their own evaluations, except for
    an unpartitioned check: that one alerts the whole pipeline (participant ``*``) on the UTC day it ran.

    The valid-day check's kind says ``not_wearing`` / ``not_syncing`` when its ``day_status`` tells, else
    ``non_adherent``; the text is the participant-day's ``reason``, else its description.
    """
    if passed:
        return []
    source = source or check_name
    failing = metadata.get(FAILING_PARTICIPANT_DAYS)
    if failing is None:  # not one of ours (report_day_results always lists them): the pipeline's problem
        text = description or f"check {check_name} failed"
        return [Alert(ANY_PARTICIPANT, occurred_at.astimezone(dt.timezone.utc).date(), f"check:{check_name}", text, source)]
    if _local_date(partition) is None:
        return []  # the summary of a ranged run: each day's evaluation carries its participant-days
    alerts = []
    for entry in failing:
        kind = f"check:{check_name}"
        if check_name == VALID_DAY_CHECK:
            # A day first "not syncing" and later "not wearing" (it synced, nothing came) is a new message.
            status = entry.get(DAY_STATUS)
            kind = str(status) if status in (NOT_WEARING, NOT_SYNCING) else NON_ADHERENT
        text = str(entry.get(REASON) or entry.get("description") or f"check {check_name} failed")
        alerts.append(Alert(str(entry[PARTICIPANT_ID]), dt.date.fromisoformat(str(entry[LOCAL_DATE])), kind, text, source))
    return alerts


def alert_from_run_failure(
    run_id: str, job_name: str, tags: Mapping[str, str], message: str, failed_at: dt.datetime
) -> Alert:
    """The alert for a failed run on the last local day it covered (so a re-run of the same range does not alert
    again), or on the UTC day of the failure for runs without days; for its participant when it covered one, else
    for the pipeline (participant ``*``)."""
    day = _local_date(tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG))
    participants = [p for p in tags.get(PARTICIPANTS_TAG, "").split(",") if p]
    who = participants[0] if len(participants) == 1 else ANY_PARTICIPANT
    text = f"run of {job_name} failed: {message}".strip()
    return Alert(who, day or failed_at.astimezone(dt.timezone.utc).date(), RUN_FAILED, text, f"run {run_id}")


def alerts_from_consent(rows: Iterable[tuple]) -> list[Alert]:
    """(participant_id, consent_state, reason, changed_at, withheld_data_types, withheld_reason) rows of
    ``participant_consent`` -> one alert per account that cannot be read (lost consent, ACCOUNT_NOT_LINKED, legacy
    Fitbit account; the stored reason names the action) and one per account whose withheld scopes leave data types
    out, keyed by the day of the change (a later change after a re-consent alerts again)."""
    alerts = []
    for participant_id, state, reason, changed_at, withheld, withheld_reason in rows:
        if state == RECONSENT_NEEDED:
            alerts.append(Alert(
                participant_id, changed_at.date(), RECONSENT_NEEDED,
                f"Participant {participant_id} must consent again with `fitbit-assets connect {participant_id}`: "
                f"{reason or 'consent withdrawn'} (since {changed_at:%Y-%m-%d %H:%M} UTC). No data is pulled until "
                "then.", "google_health_pull"))
        elif state in (ACCOUNT_NOT_LINKED, LEGACY_ACCOUNT):
            alerts.append(Alert(participant_id, changed_at.date(), state,
                                f"Participant {participant_id}: {reason} (since {changed_at:%Y-%m-%d %H:%M} UTC). No "
                                "data is pulled until then.", "google_health_pull"))
        if withheld:
            alerts.append(Alert(participant_id, changed_at.date(), DATA_WITHHELD,
                                f"Participant {participant_id} did not share {', '.join(withheld)} "
                                f"({withheld_reason}): those data are missing, the rest is pulled. To add them, run "
                                f"`fitbit-assets connect {participant_id}` and tick every box.", "google_health_pull"))
    return alerts


def plan_messages(alerts: Iterable[Alert], already_sent: set[AlertKey],
                  devices: Optional[Mapping[str, str]] = None) -> list[Message]:
    """Drop alerts whose key was delivered before or repeats within the batch (the latest text wins), then
    group the rest into one message per audience, participant and local day. ``devices``: participant -> the
    device's own state (last sync, battery), added to the coordinator's messages."""
    latest: dict[AlertKey, Alert] = {}
    for alert in alerts:
        if alert.key not in already_sent:
            latest[alert.key] = alert
    grouped: dict[tuple[str, str, dt.date], list[Alert]] = {}
    for alert in latest.values():
        grouped.setdefault((alert.audience, alert.participant_id, alert.local_date), []).append(alert)
    return [
        Message(participant_id, local_date, tuple(sorted(group, key=lambda a: a.kind)),
                (devices or {}).get(participant_id) if audience == COORDINATOR else None)
        for (audience, participant_id, local_date), group in sorted(grouped.items())
    ]


def count_by_audience(messages: Iterable[Message]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.audience] = counts.get(message.audience, 0) + 1
    return ", ".join(f"{count} for the {audience}" for audience, count in sorted(counts.items())) or "none"
