"""The audit trail (table ``audit_log``): who read which participant's data, every contact, sign-in and user change.

Rows are appended only through the SQL function ``audit_append`` (the API's role may call it, and may neither
select, update nor delete rows); each row gets ``hash = sha256(previous hash | its fields)`` and a ``seq`` without
gaps when it is chained (by the next append that finds the chain free, or by ``verify`` / ``export`` first), so
``verify`` finds an edited, removed or inserted row. ``export`` writes CSV for the study monitor.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from typing import Optional, TextIO

from psycopg2.extras import Json

from fitbit_assets.warehouse.sql_files import sql_query


def append(
    cur, actor: str, action: str, endpoint: str, participants: tuple[str, ...] = (), time_range: str = "",
    detail: Optional[dict] = None,
) -> int:
    """One audit row (in the caller's transaction); returns its id."""
    cur.execute(sql_query("audit_append"), {
        "actor": actor, "action": action, "endpoint": endpoint, "participants": list(participants),
        "time_range": time_range, "detail": Json(detail or {}),
    })
    return cur.fetchone()[0]


@dataclass(frozen=True)
class VerifyResult:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def chain(cur) -> int:
    """Chain every row not chained yet (waits for a chaining append to finish); returns how many."""
    cur.execute(sql_query("audit_chain"))
    return cur.fetchone()[0]


def verify(cur) -> VerifyResult:
    """Chain what is pending, then recompute the chain: every row's hash from its fields, its prev_hash from the
    row before, seq 1, 2, 3..."""
    chain(cur)
    cur.execute(sql_query("audit_verify"))
    problems, rows = [], 0
    for seq, at, prev_hash, stored, expected_prev, previous_seq, recomputed in cur.fetchall():
        rows += 1
        if seq != previous_seq + 1:
            problems.append(f"seq {seq}: follows seq {previous_seq} (rows {previous_seq + 1}..{seq - 1} are missing)")
        if prev_hash != expected_prev:
            problems.append(f"seq {seq}: prev_hash does not match the hash of seq {previous_seq}")
        if recomputed != stored:
            problems.append(f"seq {seq} ({at:%Y-%m-%d %H:%M:%S} UTC): fields changed after it was written")
    return VerifyResult(rows, problems)


EXPORT_COLUMNS = ("seq", "at", "actor", "action", "endpoint", "participants", "time_range", "detail", "hash")


def export(cur, since: dt.datetime, out: TextIO) -> int:
    """Rows from ``since`` on as CSV (header first); returns the number of rows."""
    chain(cur)
    cur.execute(sql_query("audit_export"), {"since": since})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in cur:
        writer.writerow([value.isoformat() if isinstance(value, dt.datetime) else value for value in row])
        count += 1
    return count
