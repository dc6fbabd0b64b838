"""``day_loads``: which input fingerprint each stage last processed per participant-day, so unchanged days are
skipped on re-runs."""

from __future__ import annotations

from collections.abc import Sequence

from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query


def processed_fingerprints(conn, stage: str, keys: Sequence) -> dict[tuple[str, object], str]:
    """(participant_id, local_date) -> the input fingerprint ``stage`` last processed, for the partitions ``keys``
    (``partitions.ParticipantDayKey``)."""
    if not keys:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            sql_query("day_loads_fingerprints"),
            {
                "stage": stage,
                "participant_ids": sorted({key.participant_id for key in keys}),
                "first": min(key.local_date for key in keys),
                "last": max(key.local_date for key in keys),
            },
        )
        return {(participant_id, local_date): fingerprint for participant_id, local_date, fingerprint in cur.fetchall()}


def record_processed(conn, stage: str, key, input_fingerprint: str, rows: int | None = None) -> None:
    """Note that ``stage`` processed ``input_fingerprint`` for the participant-day ``key``, after its own commit."""
    with transaction(conn) as cur:
        note_processed(cur, stage, key, input_fingerprint, rows)


def note_processed(cur, stage: str, key, input_fingerprint: str, rows: int | None = None) -> None:
    """``record_processed`` inside a transaction already open, e.g. the day's replace: committed with its rows."""
    cur.execute(
        sql_query("day_loads_upsert"),
        {"stage": stage, "participant_id": key.participant_id, "local_date": key.local_date,
         "input_fingerprint": input_fingerprint, "rows": rows},
    )
