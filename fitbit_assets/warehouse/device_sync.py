"""``device_sync``: the sync events of one export file, or of one synthetic day, replaced in one transaction."""

from __future__ import annotations

import pandas as pd
import psycopg2.extras

from fitbit_assets.domain.device_sync import SyncWindow
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query


def replace_sync_events(
    conn,
    participant_id: str,
    source_format: str,
    source_file: str,
    events: pd.DataFrame,
    window: SyncWindow | None = None,
) -> int:
    """Replace one file's events (or, with ``window``, one synthetic day's) in one transaction."""
    rows = [
        (participant_id, t.to_pydatetime(), device, source_format, source_file)
        for t, device in zip(pd.to_datetime(events["synced_at"], utc=True), events["device"])
    ]
    with transaction(conn) as cur:
        if window is None:
            cur.execute(sql_query("device_sync_delete_file"), {"participant_id": participant_id, "source_file": source_file})
        else:
            cur.execute(
                sql_query("device_sync_delete_window"),
                {"participant_id": participant_id, "source_format": source_format,
                 "start_utc": window.start_utc, "end_utc": window.end_utc},
            )
        if rows:
            psycopg2.extras.execute_values(cur, sql_query("device_sync_insert"), rows, page_size=1000)
    return len(rows)
