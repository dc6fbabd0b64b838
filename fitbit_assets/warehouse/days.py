"""Participant-day writes: the one atomic day replace (every dataset's rows), heart rate's partitions and lineage,
the participant row the days reference, and the row counts the checks compare with."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

import pandas as pd
from psycopg2 import sql

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.copy_text import heart_rate_copy, rows_copy_text
from fitbit_assets.warehouse.sql_files import sql_query

DayColumn = Literal["ts", "local_date"]


def _day_filter(participant_id: str, day: LocalDay, by: DayColumn) -> tuple[sql.Composable, dict]:
    """The WHERE clause (and its parameters) of one participant's day: the UTC window of the local day (``ts``) or
    a ``local_date`` column (e.g. SpO2 attached to the wake-up date)."""
    if by == "ts":
        condition = sql.SQL("participant_id = %(participant_id)s AND ts >= %(start_utc)s AND ts < %(end_utc)s")
        return condition, {"participant_id": participant_id, "start_utc": day.start_utc, "end_utc": day.end_utc}
    condition = sql.SQL("participant_id = %(participant_id)s AND local_date = %(local_date)s")
    return condition, {"participant_id": participant_id, "local_date": day.local_date}


def replace_rows(
    conn,
    table: str,
    columns: Sequence[str],
    frame: pd.DataFrame,
    participant_id: str,
    day: LocalDay,
    by: DayColumn = "local_date",
    copy_payload: io.IOBase | None = None,
    in_transaction: Callable | None = None,
) -> tuple[int, int]:
    """The one atomic participant-day replace: DELETE the day's rows of ``table`` and load ``frame[columns]`` in one
    transaction, so readers see the old rows until the commit and any failure leaves them in place. Concurrent
    replaces of the same participant-day run one after the other (advisory lock): the last commit's rows remain.

    ``by`` picks the day column (see ``_day_filter``). The rows go in by COPY; ``copy_payload`` overrides the
    generic text (e.g. heart rate's fixed-width fast path).
    ``in_transaction(cursor, inserted)`` runs extra statements before the commit.
    Returns (rows deleted, rows inserted).
    """
    condition, params = _day_filter(participant_id, day, by)
    delete = sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(table), condition)
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    with transaction(conn) as cur:
        # Under READ COMMITTED two replaces of the same day would each DELETE before the other's rows are
        # committed and both load. Serialized on (table, participant, day) before the DELETE, the second one
        # takes its snapshot after the first commits and removes those rows. Held until commit/rollback.
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"{table}/{participant_id}/{day.local_date.isoformat()}",),
        )
        cur.execute(delete, params)
        deleted = cur.rowcount
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), column_list)
        cur.copy_expert(copy.as_string(cur), copy_payload if copy_payload is not None else rows_copy_text(frame, columns))
        inserted = cur.rowcount
        if in_transaction is not None:
            in_transaction(cur, inserted)
    return deleted, inserted


def replace_local_date_rows(
    conn,
    table: str,
    columns: Sequence[str],
    days: Sequence[tuple[str, LocalDay, pd.DataFrame]],
    in_transaction: Callable | None = None,
) -> list[tuple[int, int]]:
    """``replace_rows`` by ``local_date`` for many ``(participant_id, day, frame)`` in one transaction: one DELETE
    and one COPY for all of them (a transaction a participant-day was most of a family's load time). Each day is
    still replaced whole or not at all; ``in_transaction(cursor, index, inserted)`` runs per day before the commit.
    Returns (rows deleted, rows inserted) per day, in the order given."""
    if not days:
        return []
    participant_ids = [participant_id for participant_id, _, _ in days]
    local_dates = [day.local_date for _, day, _ in days]
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    with transaction(conn) as cur:
        cur.execute(sql_query("participant_day_locks"), {"lock_keys": [
            f"{table}/{participant_id}/{local_date.isoformat()}" for participant_id, local_date in zip(participant_ids, local_dates)
        ]})
        cur.execute(
            sql.SQL(sql_query("local_date_rows_delete")).format(table=sql.Identifier(table)),
            {"participant_ids": participant_ids, "local_dates": local_dates},
        )
        deleted = Counter(cur.fetchall())
        frames = [frame for _, _, frame in days if len(frame)]
        if frames:
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), column_list)
            cur.copy_expert(copy.as_string(cur), rows_copy_text(pd.concat(frames, ignore_index=True), columns))
        counts = []
        for index, (participant_id, day, frame) in enumerate(days):
            counts.append((deleted[(participant_id, day.local_date)], len(frame)))
            if in_transaction is not None:
                in_transaction(cur, index, len(frame))
    return counts


def count_rows(conn, table: str, participant_id: str, day: LocalDay, by: DayColumn = "local_date") -> int:
    condition, params = _day_filter(participant_id, day, by)
    query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(table), condition)
    with conn.cursor() as cur:
        cur.execute(query, params)
        return int(cur.fetchone()[0])


def replace_heart_rate_day(
    conn,
    participant_id: str,
    day: LocalDay,
    frame: pd.DataFrame,
    lineage=None,
    in_transaction: Callable | None = None,
) -> tuple[int, int]:
    """Atomically replace one participant's local day: readers see the old rows until the commit.

    Returns (rows deleted, rows inserted). Any failure rolls back, leaving the previous rows in place.
    ``lineage`` (``sources.lineage.Lineage``) is upserted into heart_rate_lineage in the same transaction;
    without it the day's lineage row is removed rather than left describing other rows. ``in_transaction`` as
    in ``replace_rows``.
    """
    columns, payload = heart_rate_copy(frame)

    def write_lineage(cur, inserted: int) -> None:
        day_key = {"participant_id": participant_id, "local_date": day.local_date}
        if lineage is None:
            cur.execute(sql_query("heart_rate_lineage_delete"), day_key)
        else:
            cur.execute(
                sql_query("heart_rate_lineage_upsert"),
                {**day_key, "source_format": lineage.source_format, "source_files": list(lineage.source_files),
                 "rows": inserted},
            )
        if in_transaction is not None:
            in_transaction(cur, inserted)

    if len(frame):
        create_heart_rate_partitions(conn, day.start_utc, day.end_utc)
    return replace_rows(
        conn, "heart_rate", columns, frame, participant_id, day, by="ts", copy_payload=payload,
        in_transaction=write_lineage,
    )


def count_heart_rate_day(conn, participant_id: str, day: LocalDay) -> int:
    return count_rows(conn, "heart_rate", participant_id, day, by="ts")


def create_heart_rate_partitions(conn, start_utc, end_utc) -> list[str]:
    """On plain PostgreSQL, create the monthly partitions of heart_rate that the window [start_utc, end_utc) needs
    (a day can straddle two UTC months) and return their names. Runs and commits in a transaction of its own, before
    the load's: the day's DELETE + COPY never holds a DDL lock, and a failed load leaves at most an empty partition.
    Nothing to do on TimescaleDB, whose hypertable creates chunks on insert."""
    with transaction(conn) as cur:
        cur.execute(sql_query("heart_rate_partitioned"))
        if not cur.fetchone()[0]:
            return []
        cur.execute(sql_query("heart_rate_partitions_create"), {"start_utc": start_utc, "end_utc": end_utc})
        return list(cur.fetchone()[0])


def upsert_participant(conn, participant: Participant) -> None:
    with transaction(conn) as cur:
        cur.execute(
            sql_query("participant_upsert"),
            {
                "participant_id": participant.participant_id,
                "timezone": participant.timezone,
                "enrolled_on": participant.enrolled_on,
                "source": participant.source,
                "site": participant.site or None,
            },
        )
