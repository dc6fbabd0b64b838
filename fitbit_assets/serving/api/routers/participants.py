"""The roster, one participant, and the coordinator's "contact participant" action: a reminder (template, own
wording) e-mailed to the participant's own address, at most once a day unless overridden, never to a participant
marked do-not-contact, audited with its result."""

import datetime as dt
import logging
from email.message import EmailMessage
from typing import Optional

from fastapi import APIRouter, HTTPException, Request

from fitbit_assets.domain.contact import TEMPLATES, Reminder, UnknownTemplate, render
from fitbit_assets.domain.access import Principal
from fitbit_assets.serving import audit, contacts
from fitbit_assets.serving.api.access import record_read, visible_participant, visible_participants
from fitbit_assets.serving.api.db import write_transaction
from fitbit_assets.serving.api.dependencies import Config, Contacter, Database, ParticipantId, Reader
from fitbit_assets.serving.api.models import (
    BAD_BODY,
    ERRORS,
    NOT_FOUND,
    ContactPreview,
    ContactRequest,
    ContactResponse,
    ContactTemplate,
    ParticipantSummary,
    Problem,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/participants", tags=["participants"])
CONTACT_ERRORS = {
    **ERRORS,
    **NOT_FOUND,
    **BAD_BODY,
    409: {"model": Problem, "description": "no address, do-not-contact, or already contacted today"},
}


@router.get("", responses=ERRORS)
def list_participants(request: Request, principal: Reader, db: Database) -> list[ParticipantSummary]:
    """The participants the caller sees (a coordinator: those of their sites)."""
    with db.connection() as conn:
        rows = visible_participants(conn, principal)
        record_read(conn, principal, request, [r["participant_id"] for r in rows])
    return [ParticipantSummary(**row) for row in rows]


@router.get("/contact-templates", responses=ERRORS)
def contact_templates(principal: Contacter) -> list[ContactTemplate]:
    return [ContactTemplate(**t.__dict__) for t in TEMPLATES.values()]


@router.get("/{participant_id}", responses={**ERRORS, **NOT_FOUND})
def get_participant(participant_id: ParticipantId, request: Request, principal: Reader, db: Database) -> ParticipantSummary:
    with db.connection() as conn:
        row = visible_participant(conn, principal, participant_id)
        record_read(conn, principal, request, [participant_id])
    return ParticipantSummary(**row)


def _reminder(body: ContactRequest) -> Reminder:
    try:
        return render(body.template, body.message)
    except UnknownTemplate as exc:
        raise HTTPException(422, str(exc)) from None


def _today_start() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _contact_state(conn, participant_id: str) -> tuple[Optional[contacts.Contact], Optional[tuple]]:
    with conn.cursor() as cur:
        return contacts.contact_of(cur, participant_id), contacts.last_contact(cur, participant_id, _today_start())


@router.post("/{participant_id}/contact/preview", responses=CONTACT_ERRORS)
def preview_contact(
    participant_id: ParticipantId, body: ContactRequest, principal: Contacter, db: Database
) -> ContactPreview:
    """What ``contact`` would send, to whom (the address shortened), and whether it may be sent now."""
    reminder = _reminder(body)
    with db.connection() as conn:
        visible_participant(conn, principal, participant_id)
        contact, last = _contact_state(conn, participant_id)
    return ContactPreview(
        participant_id=participant_id, to=contact.email_hint if contact and contact.email_enc else None,
        do_not_contact=bool(contact and contact.do_not_contact),
        contacted_today=f"{last[0]:%H:%M} UTC by {last[1]}" if last else None,
        subject=reminder.subject, text=reminder.text,
    )


def _audit_contact(conn, principal: Principal, request: Request, participant_id: str, reminder: Reminder,
                   result: str) -> None:
    with write_transaction(conn) as cur:
        audit.append(cur, principal.name, "contact", f"{request.method} {request.url.path}", (participant_id,),
                     detail={"template": reminder.template, "subject": reminder.subject, "result": result})


@router.post(
    "/{participant_id}/contact",
    responses={
        **CONTACT_ERRORS,
        502: {"model": Problem, "description": "the SMTP server did not accept the message"},
        503: {"model": Problem, "description": "no SMTP server configured, or database unreachable"},
    },
)
def contact_participant(
    participant_id: ParticipantId, body: ContactRequest, request: Request, principal: Contacter, db: Database,
    config: Config,
) -> ContactResponse:
    """E-mail the participant a reminder (FITBIT_ALERT_SMTP_*; their address from ``fitbit-assets contacts set``)."""
    reminder = _reminder(body)
    with db.connection() as conn:
        visible_participant(conn, principal, participant_id)
        contact, last = _contact_state(conn, participant_id)
        refusal = (
            "has no contact address (fitbit-assets contacts set)" if contact is None or contact.email_enc is None
            else "is marked do-not-contact" if contact.do_not_contact
            else f"was contacted today already ({last[0]:%H:%M} UTC by {last[1]}): send with override to contact "
                 "again" if last and not body.override
            else None
        )
        if refusal:
            _audit_contact(conn, principal, request, participant_id, reminder, f"refused: {refusal}")
            raise HTTPException(409, f"participant {participant_id} {refusal}")
        channel = config.alert_channel()
        if not channel.smtp_host:
            _audit_contact(conn, principal, request, participant_id, reminder, "refused: no SMTP server")
            raise HTTPException(503, "no SMTP server configured (FITBIT_ALERT_SMTP_HOST): nothing was sent")
        email = EmailMessage()
        email["Subject"], email["From"] = reminder.subject, channel.smtp_from
        email["To"] = address = contact.email(config.token_key(), participant_id)
        email.set_content(reminder.text)
        try:
            channel.deliver_email(email, [address])
        except Exception as exc:  # noqa: BLE001 - any SMTP or network failure: not delivered
            log.error("contact %s: delivery failed: %s: %s", participant_id, type(exc).__name__, exc)
            _audit_contact(conn, principal, request, participant_id, reminder, f"failed: {type(exc).__name__}")
            raise HTTPException(502, "the SMTP server did not accept the reminder: nothing was sent (details in the "
                                     "server log)") from None
        with write_transaction(conn) as cur:
            contacts.record_contact(cur, participant_id, reminder.template, principal.name, body.override)
        _audit_contact(conn, principal, request, participant_id, reminder, "delivered by email")
    return ContactResponse(participant_id=participant_id, to=contact.email_hint, subject=reminder.subject,
                           delivered="email")
