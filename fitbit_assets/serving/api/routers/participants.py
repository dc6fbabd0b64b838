"""The roster, one participant, and the coordinator's "contact participant" action."""

import datetime as dt

from fastapi import APIRouter, HTTPException

from fitbit_assets.defs.alerts.channel import AlertDeliveryError
from fitbit_assets.defs.alerts.messages import Alert, Message
from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.dependencies import SECURED, Config, Database, ParticipantId
from fitbit_assets.serving.api.models import (
    ERRORS,
    NOT_FOUND,
    ContactRequest,
    ContactResponse,
    ParticipantSummary,
    Problem,
)
from fitbit_assets.serving.api.ranges import check_date

CONTACT_KIND = "contact participant"

router = APIRouter(prefix="/api/participants", tags=["participants"], dependencies=SECURED)


@router.get("", responses=ERRORS)
def list_participants(db: Database) -> list[ParticipantSummary]:
    with db.connection() as conn:
        return [ParticipantSummary(**row) for row in q.participants(conn)]


@router.get("/{participant_id}", responses={**ERRORS, **NOT_FOUND})
def get_participant(participant_id: ParticipantId, db: Database) -> ParticipantSummary:
    with db.connection() as conn:
        q.require_participant(conn, participant_id)
        return ParticipantSummary(**next(r for r in q.participants(conn) if r["participant_id"] == participant_id))


@router.post(
    "/{participant_id}/contact",
    responses={
        **ERRORS,
        **NOT_FOUND,
        400: {"model": Problem, "description": "the body is not valid JSON"},
        502: {"model": Problem, "description": "a configured channel did not accept the message"},
        503: {"model": Problem, "description": "no alert channel configured, or database unreachable"},
    },
)
def contact_participant(
    participant_id: ParticipantId, body: ContactRequest, db: Database, config: Config
) -> ContactResponse:
    """Send a "contact participant" request to the study coordinators through the alert channel
    (email FITBIT_ALERT_SMTP_* and/or webhook FITBIT_ALERT_WEBHOOK_URL)."""
    with db.connection() as conn:
        q.require_participant(conn, participant_id)
    channel = config.alert_channel()
    if not channel.channels():
        raise HTTPException(
            503, "no alert channel configured (FITBIT_ALERT_SMTP_HOST + FITBIT_ALERT_SMTP_TO or FITBIT_ALERT_WEBHOOK_URL)"
        )
    day = check_date("local_date", body.local_date) or dt.datetime.now(dt.timezone.utc).date()
    message = Message(participant_id, day, (Alert(participant_id, day, CONTACT_KIND, body.message, "dashboard"),))
    try:
        delivered = channel.send(message)
    except AlertDeliveryError as exc:
        raise HTTPException(502, str(exc)) from exc
    return ContactResponse(participant_id=participant_id, subject=message.subject, channels=delivered)
