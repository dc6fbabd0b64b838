import datetime as dt
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, HTTPException, Query, Request, Response

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.access import record_read, visible_participant
from fitbit_assets.serving.api.dependencies import Config, Database, ParticipantId, Reader
from fitbit_assets.serving.api.models import ERRORS, NOT_FOUND, SeriesResponse, ValidationProblem, json_response
from fitbit_assets.serving.api.ranges import check_time

DEFAULT_SERIES_DAYS = 7

router = APIRouter(prefix="/api/participants", tags=["series"])


@router.get(
    "/{participant_id}/series",
    response_model=SeriesResponse,
    responses={**ERRORS, **NOT_FOUND, 422: {"model": ValidationProblem, "description": "bad range or too many points"}},
)
def get_series(
    participant_id: ParticipantId,
    request: Request,
    principal: Reader,
    db: Database,
    config: Config,
    metric: Annotated[Literal[tuple(q.SERIES_TABLES)], Query(description="metric name")] = "heart_rate",  # type: ignore[valid-type]
    start: Annotated[Optional[dt.datetime], Query(description="ISO 8601; naive = UTC. Default: end - 7 days")] = None,
    end: Annotated[Optional[dt.datetime], Query(description="ISO 8601, exclusive. Default: the last data")] = None,
    resolution: Annotated[Literal["auto", "raw", "1m", "1h", "1d"], Query()] = "auto",
    max_points: Annotated[Optional[int], Query(ge=1, le=100_000, description="at most the server's limit")] = None,
    imputed: Annotated[bool, Query(description="include imputed minutes, flagged")] = False,
) -> Response:
    """A metric's series with at most ``max_points`` points (default and cap: FITBIT_API_MAX_POINTS).
    ``auto`` picks raw samples for short ranges and the 1 min / 1 h / 1 day rollups for longer ones."""
    start, end = check_time("start", start), check_time("end", end)
    limit = min(max_points or config.max_points, config.max_points)
    with db.connection() as conn:
        visible_participant(conn, principal, participant_id)
        if end is None:
            end = q.last_data_time(conn, participant_id, q.series_tables(metric)) if start is None else None
            end = end or (start + dt.timedelta(days=DEFAULT_SERIES_DAYS) if start else q.as_utc(dt.datetime.now()))
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_SERIES_DAYS)
        if end <= start:
            raise HTTPException(422, "end must be after start")
        if end - start > dt.timedelta(days=config.max_range_days):
            raise HTTPException(422, f"range longer than {config.max_range_days} days")
        result = q.series(conn, participant_id, metric, start, end, resolution, limit, imputed)
        record_read(conn, principal, request, [participant_id], f"{start.isoformat()}..{end.isoformat()}")
    return json_response(SeriesResponse(**{**result.__dict__, "points": result.points}))
