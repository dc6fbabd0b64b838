import datetime as dt
from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request, Response

from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.access import record_read
from fitbit_assets.serving.api.dependencies import Config, Database, Reader
from fitbit_assets.serving.api.models import ERRORS, CohortResponse, json_response
from fitbit_assets.serving.api.ranges import check_time

router = APIRouter(prefix="/api", tags=["cohort"])


@router.get("/cohort", response_model=CohortResponse, responses=ERRORS)
def get_cohort(
    request: Request,
    principal: Reader,
    db: Database,
    config: Config,
    as_of: Annotated[Optional[dt.datetime], Query(description="reference time for sync staleness (default now)")] = None,
) -> Response:
    """Per participant the caller sees: the coordinator status (what, since which local day, evidence, action),
    last data, last sync and trailing 7-day adherence, most urgent first."""
    as_of = check_time("as_of", as_of) or dt.datetime.now(dt.timezone.utc)
    rules = config.status_rules

    def read() -> q.CohortData:
        with db.connection() as conn:
            return q.read_cohort(conn, as_of.date(), rules.window_days)

    # Every caller's cohort of a day is read once for the requests asking at the same time (shared_reads.py).
    data = request.app.state.shared_reads.read(("cohort", as_of.date()), read)
    rows = q.cohort_statuses(data, as_of, rules, principal.sees)
    with db.connection() as conn:
        record_read(conn, principal, request, [r["participant_id"] for r in rows], f"as of {as_of.isoformat()}")
    return json_response(CohortResponse(as_of=as_of, participants=rows))  # rows validated in pydantic-core
