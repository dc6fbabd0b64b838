"""Daily wear-time adherence of one participant or of the cohort."""

from fastapi import APIRouter

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.dependencies import SECURED, Config, Database, DateQuery, ParticipantId
from fitbit_assets.serving.api.models import BAD_RANGE, ERRORS, NOT_FOUND, AdherenceDay, AdherenceResponse
from fitbit_assets.serving.api.ranges import day_range

router = APIRouter(prefix="/api", tags=["adherence"], dependencies=SECURED)


@router.get("/participants/{participant_id}/adherence", responses={**ERRORS, **NOT_FOUND, **BAD_RANGE})
def get_participant_adherence(
    participant_id: ParticipantId, db: Database, config: Config, start: DateQuery = None, end: DateQuery = None
) -> AdherenceResponse:
    """Daily adherence of one participant (default: the 90 days ending at the last computed day)."""
    with db.connection() as conn:
        q.require_participant(conn, participant_id)
        last = next((r["last_local_date"] for r in q.participants(conn) if r["participant_id"] == participant_id), None)
        start, end = day_range(start, end, last, config.max_range_days)
        days = q.participant_adherence(conn, participant_id, start, end)
    return AdherenceResponse(start=start, end=end, days=[AdherenceDay(**d) for d in days])


@router.get("/adherence", responses={**ERRORS, **BAD_RANGE})
def get_cohort_adherence(
    db: Database, config: Config, start: DateQuery = None, end: DateQuery = None
) -> AdherenceResponse:
    """Daily adherence of every participant for a date range (default: the last 90 days with data)."""
    with db.connection() as conn:
        last = max((r["last_local_date"] for r in q.participants(conn) if r["last_local_date"]), default=None)
        start, end = day_range(start, end, last, config.max_range_days)
        days = q.cohort_adherence(conn, start, end)
    return AdherenceResponse(start=start, end=end, days=[AdherenceDay(**d) for d in days])
