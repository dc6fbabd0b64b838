import datetime as dt
from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.access import record_read
from fitbit_assets.serving.api.dependencies import Config, Database, Reader
from fitbit_assets.serving.api.models import ERRORS, CohortResponse
from fitbit_assets.serving.api.ranges import check_time

router = APIRouter(prefix="/api", tags=["cohort"])


@router.get("/cohort", responses=ERRORS)
def get_cohort(
    request: Request,
    principal: Reader,
    db: Database,
    config: Config,
    as_of: Annotated[Optional[dt.datetime], Query(description="reference time for sync staleness (default now)")] = None,
) -> CohortResponse:
    """Per participant the caller sees: the coordinator status (what, since which local day, evidence, action),
    last data, last sync and trailing 7-day adherence, most urgent first."""
    as_of = check_time("as_of", as_of) or dt.datetime.now(dt.timezone.utc)
    with db.connection() as conn:
        rows = q.cohort_overview(conn, as_of, config.status_rules, principal.sees)
        record_read(conn, principal, request, [r["participant_id"] for r in rows], f"as of {as_of.isoformat()}")
    return CohortResponse(as_of=as_of, participants=rows)  # rows validated in pydantic-core, not one by one
