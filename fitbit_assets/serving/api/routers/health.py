from fastapi import APIRouter

from fitbit_assets.serving.api.dependencies import Database
from fitbit_assets.serving.api.models import ERRORS

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", responses={503: ERRORS[503]})
def health(db: Database) -> dict:
    """Liveness and database reachability (no token needed)."""
    with db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
    return {"status": "ok"}
