"""Daily wear-time adherence (``daily_adherence``) of one participant or of the whole cohort, as the JSON array of
its rows (the API answers with it as it is)."""

from __future__ import annotations

import datetime as dt

from fitbit_assets.serving.query.errors import check_day_range
from fitbit_assets.serving.query.rows import fetch_json


def participant_adherence(conn, participant_id: str, start: dt.date, end: dt.date) -> str:
    """daily_adherence rows of one participant for local dates start..end (inclusive); ``[]`` for an unknown one
    (callers check the participant first: the API answers 404)."""
    check_day_range(start, end)
    return fetch_json(conn, "api_adherence_participant", {"participant_id": participant_id, "start": start, "end": end})


def cohort_adherence(conn, start: dt.date, end: dt.date, participant_ids: list[str]) -> str:
    """daily_adherence rows of the given participants for local dates start..end (inclusive)."""
    check_day_range(start, end)
    return fetch_json(conn, "api_adherence_range", {"start": start, "end": end, "participants": participant_ids})
