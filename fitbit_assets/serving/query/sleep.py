"""Nightly sleep totals (``sleep_daily``, main sleep) of one participant."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fitbit_assets.serving.query.errors import check_day_range
from fitbit_assets.serving.query.participants import require_participant
from fitbit_assets.serving.query.rows import fetch_rows
from fitbit_assets.warehouse.sql_files import sql_query


def last_sleep_night(conn, participant_id: str) -> Optional[dt.date]:
    with conn.cursor() as cur:
        cur.execute(sql_query("api_sleep_last_night"), {"participant_id": participant_id})
        return cur.fetchone()[0]


def participant_sleep(conn, participant_id: str, start: dt.date, end: dt.date) -> list[dict]:
    """sleep_daily rows (nightly totals, main sleep) of one participant for dateOfSleep start..end (inclusive)."""
    check_day_range(start, end)
    require_participant(conn, participant_id)
    return fetch_rows(conn, "api_sleep_participant", {"participant_id": participant_id, "start": start, "end": end})
