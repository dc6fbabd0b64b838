from fastapi import APIRouter, Request

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.access import record_read, visible_participant
from fitbit_assets.serving.api.dependencies import Config, Database, DateQuery, ParticipantId, Reader
from fitbit_assets.serving.api.models import BAD_RANGE, ERRORS, NOT_FOUND, SleepNight, SleepResponse
from fitbit_assets.serving.api.ranges import day_range

router = APIRouter(prefix="/api/participants", tags=["sleep"])


@router.get("/{participant_id}/sleep", responses={**ERRORS, **NOT_FOUND, **BAD_RANGE})
def get_participant_sleep(
    participant_id: ParticipantId, request: Request, principal: Reader, db: Database, config: Config,
    start: DateQuery = None, end: DateQuery = None,
) -> SleepResponse:
    """Nightly sleep of one participant (default: the 90 nights ending at the last loaded night)."""
    with db.connection() as conn:
        visible_participant(conn, principal, participant_id)
        start, end = day_range(start, end, q.last_sleep_night(conn, participant_id), config.max_range_days)
        nights = q.participant_sleep(conn, participant_id, start, end)
        record_read(conn, principal, request, [participant_id], f"{start}..{end}")
    return SleepResponse(participant_id=participant_id, start=start, end=end, nights=[SleepNight(**n) for n in nights])
