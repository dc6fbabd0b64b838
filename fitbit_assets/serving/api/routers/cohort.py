import datetime as dt
from typing import Annotated, Optional

from fastapi import APIRouter, Query

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.dependencies import SECURED, Database
from fitbit_assets.serving.api.models import ERRORS, CohortResponse, CohortRow
from fitbit_assets.serving.api.ranges import check_time

router = APIRouter(prefix="/api", tags=["cohort"], dependencies=SECURED)


@router.get("/cohort", responses=ERRORS)
def get_cohort(
    db: Database,
    as_of: Annotated[Optional[dt.datetime], Query(description="reference time for sync staleness (default now)")] = None,
) -> CohortResponse:
    """Per participant: the coordinator status (what, since which local day, evidence, action), last data, last
    sync and trailing 7-day adherence, most urgent first."""
    as_of = check_time("as_of", as_of) or dt.datetime.now(dt.timezone.utc)
    with db.connection() as conn:
        rows = q.cohort_overview(conn, as_of)
    return CohortResponse(as_of=as_of, participants=[CohortRow(**r) for r in rows])
