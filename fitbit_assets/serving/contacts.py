"""Participants' contact details (table ``participant_contact``), Fernet-encrypted with FITBIT_TOKEN_ENCRYPTION_KEY
like the Google Health tokens. The CLI writes them on the schema owner's connection; the API reads one
participant's ciphertext at a time through ``contact_address()`` (it cannot select the table) and decrypts it only
to send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken

from fitbit_assets.domain.contact import email_hint
from fitbit_assets.warehouse.sql_files import sql_query


class ContactKeyError(RuntimeError):
    """No or wrong FITBIT_TOKEN_ENCRYPTION_KEY for the stored contact details."""


def _fernet(key: Optional[str]) -> Fernet:
    if not key:
        raise ContactKeyError("FITBIT_TOKEN_ENCRYPTION_KEY is not set: participants' contact details cannot be "
                              "read or saved")
    return Fernet(key.encode())


@dataclass(frozen=True)
class Contact:
    email_hint: str
    do_not_contact: bool
    email_enc: Optional[bytes]

    def email(self, key: Optional[str], participant_id: str) -> str:
        try:
            return _fernet(key).decrypt(bytes(self.email_enc)).decode()
        except InvalidToken:
            raise ContactKeyError(f"the contact details of {participant_id} do not decrypt with "
                                  "FITBIT_TOKEN_ENCRYPTION_KEY (key changed?)") from None


def set_contact(cur, key: Optional[str], participant_id: str, email: Optional[str], do_not_contact: Optional[bool]):
    """Store a new address and/or the do-not-contact flag (unchanged when None)."""
    cur.execute(sql_query("participant_contact_upsert"), {
        "participant_id": participant_id,
        "email_enc": _fernet(key).encrypt(email.encode()) if email else None,
        "email_hint": email_hint(email) if email else None,
        "do_not_contact": do_not_contact,
    })


def contact_of(cur, participant_id: str) -> Optional[Contact]:
    cur.execute(sql_query("participant_contact_read"), {"participant_id": participant_id})
    row = cur.fetchone()
    return Contact(row[1], row[2], row[0]) if row else None


def last_contact(cur, participant_id: str, since: dt.datetime) -> Optional[tuple[dt.datetime, str]]:
    """(sent_at, user) of the participant's latest contact since ``since``."""
    cur.execute(sql_query("contact_sent_last"), {"participant_id": participant_id, "since": since})
    return cur.fetchone()


def record_contact(cur, participant_id: str, template: str, user_name: str, overridden: bool) -> None:
    cur.execute(sql_query("contact_sent_insert"), {"participant_id": participant_id, "template": template,
                                                   "user_name": user_name, "overridden": overridden})
