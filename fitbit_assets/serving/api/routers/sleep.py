from fastapi import APIRouter

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.dependencies import SECURED, Config, Database, DateQuery, ParticipantId
from fitbit_assets.serving.api.models import BAD_RANGE, ERRORS, NOT_FOUND, SleepNight, SleepResponse
from fitbit_assets.serving.api.ranges import day_range

router = APIRouter(prefix="/api/participants", tags=["sleep"], dependencies=SECURED)


@router.get("/{participant_id}/sleep", responses={**ERRORS, **NOT_FOUND, **BAD_RANGE})
def get_participant_sleep(
    participant_id: ParticipantId, db: Database, config: Config, start: DateQuery = None, end: DateQuery = None
) -> SleepResponse:
    """Nightly sleep of one participant (default: the 90 nights ending at the last loaded night)."""
    with db.connection() as conn:
        q.require_participant(conn, participant_id)
        start, end = day_range(start, end, q.last_sleep_night(conn, participant_id), config.max_range_days)
        nights = q.participant_sleep(conn, participant_id, start, end)
    return SleepResponse(participant_id=participant_id, start=start, end=end, nights=[SleepNight(**n) for n in nights])
