"""The roster as the warehouse holds it, with each participant's first and last local date."""

from __future__ import annotations

from fitbit_assets.serving.query.errors import UnknownParticipant
from fitbit_assets.serving.query.rows import fetch_rows


def participants(conn) -> list[dict]:
    return fetch_rows(conn, "api_participants")


def require_participant(conn, participant_id: str) -> dict:
    rows = fetch_rows(conn, "api_participant", {"participant_id": participant_id})
    if not rows:
        raise UnknownParticipant(participant_id)
    return rows[0]
