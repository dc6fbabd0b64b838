"""Daily wear-time adherence of one participant or of the cohort. The days come from the database as the JSON
array of ``AdherenceDay`` (``query.cohort_adherence``): the response wraps it without making Python objects of its
rows (for 700 rows that was three quarters of the request's CPU)."""

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, Response

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.access import record_read, visible_participant
from fitbit_assets.serving.api.dependencies import Config, Database, DateQuery, ParticipantId, Reader
from fitbit_assets.serving.api.models import BAD_RANGE, ERRORS, NOT_FOUND, AdherenceResponse
from fitbit_assets.serving.api.ranges import day_range

router = APIRouter(prefix="/api", tags=["adherence"])


def adherence_response(start: dt.date, end: dt.date, days_json: str) -> Response:
    """An ``AdherenceResponse`` body around the days' JSON array."""
    return Response(f'{{"start":"{start.isoformat()}","end":"{end.isoformat()}","days":{days_json}}}',
                    media_type="application/json")


@router.get("/participants/{participant_id}/adherence", response_model=AdherenceResponse,
            responses={**ERRORS, **NOT_FOUND, **BAD_RANGE})
def get_participant_adherence(
    participant_id: ParticipantId, request: Request, principal: Reader, db: Database, config: Config,
    start: DateQuery = None, end: DateQuery = None,
) -> Response:
    """Daily adherence of one participant (default: the 90 days ending at the last computed day)."""
    with db.connection() as conn:
        last = visible_participant(conn, principal, participant_id)["last_local_date"]
        start, end = day_range(start, end, last, config.max_range_days)
        days = q.participant_adherence(conn, participant_id, start, end)
        record_read(conn, principal, request, [participant_id], f"{start}..{end}")
    return adherence_response(start, end, days)


@router.get("/adherence", response_model=AdherenceResponse, responses={**ERRORS, **BAD_RANGE})
def get_cohort_adherence(
    request: Request, principal: Reader, db: Database, config: Config, start: DateQuery = None, end: DateQuery = None
) -> Response:
    """Daily adherence of every participant the caller sees for a date range (default: the last 90 days with
    data). At most FITBIT_API_MAX_ROWS participant-days: checked before reading, 422 naming the limit."""
    shared = request.app.state.shared_reads  # reads shared by the requests asking at the same time

    def read_participants() -> list[dict]:
        with db.connection() as conn:
            return q.participants(conn)

    visible = [row for row in shared.read("participants", read_participants) if principal.sees(row["site"])]
    last = max((r["last_local_date"] for r in visible if r["last_local_date"]), default=None)
    start, end = day_range(start, end, last, config.max_range_days)
    rows = len(visible) * ((end - start).days + 1)
    if rows > config.max_rows:
        raise HTTPException(
            422, f"{len(visible)} participants x {(end - start).days + 1} days = {rows} rows exceed "
            f"FITBIT_API_MAX_ROWS={config.max_rows}: shorten the range, or read participants one at a time",
        )
    ids = [r["participant_id"] for r in visible]

    def read_days() -> str:
        with db.connection() as conn:
            return q.cohort_adherence(conn, start, end, ids)

    days = shared.read(("adherence", start, end, tuple(ids)), read_days)
    with db.connection() as conn:
        record_read(conn, principal, request, ids, f"{start}..{end}")
    return adherence_response(start, end, days)
