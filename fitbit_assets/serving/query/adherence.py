"""Daily wear-time adherence (``daily_adherence``) of one participant or of the whole cohort."""

from __future__ import annotations

import datetime as dt

from fitbit_assets.serving.query.errors import check_day_range
from fitbit_assets.serving.query.participants import require_participant
from fitbit_assets.serving.query.rows import fetch_rows


def participant_adherence(conn, participant_id: str, start: dt.date, end: dt.date) -> list[dict]:
    """daily_adherence rows of one participant for local dates start..end (inclusive)."""
    check_day_range(start, end)
    require_participant(conn, participant_id)
    return fetch_rows(conn, "api_adherence_participant", {"participant_id": participant_id, "start": start, "end": end})


def cohort_adherence(conn, start: dt.date, end: dt.date, participant_ids: list[str]) -> list[dict]:
    """daily_adherence rows of the given participants for local dates start..end (inclusive)."""
    check_day_range(start, end)
    return fetch_rows(conn, "api_adherence_range", {"start": start, "end": end, "participants": participant_ids})
