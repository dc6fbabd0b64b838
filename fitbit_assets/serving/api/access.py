"""Which participants a caller sees (their sites), and the audit row of every read of participant-level data."""

from typing import Iterable

from fastapi import Request
from psycopg2.extras import Json

from fitbit_assets.domain.access import Principal
from fitbit_assets.serving import query as q
from fitbit_assets.warehouse.sql_files import sql_query


def visible_participant(conn, principal: Principal, participant_id: str) -> dict:
    """The participant's row; 404 (as for an unknown one) when the caller's sites do not include theirs."""
    row = q.require_participant(conn, participant_id)
    if not principal.sees(row["site"]):
        raise q.UnknownParticipant(participant_id)
    return row


def visible_participants(conn, principal: Principal) -> list[dict]:
    return [row for row in q.participants(conn) if principal.sees(row["site"])]


def record_read(conn, principal: Principal, request: Request, participants: Iterable[str], time_range: str = "") -> None:
    """Audit: ``principal`` read these participants' data through this request (committed before the answer)."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql_query("api_audit_read"), {
                "actor": principal.name, "endpoint": f"{request.method} {request.url.path}",
                "participants": list(participants), "time_range": time_range,
                "detail": Json({"query": str(request.url.query)} if request.url.query else {}),
            })
        except BaseException:
            if not conn.closed:  # the string stops at the failing statement, inside its transaction
                cur.execute("ROLLBACK")
            raise
