from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
def health() -> dict:
    """Liveness (no sign-in, no database connection: a flood of it cannot take connections from the others)."""
    return {"status": "ok"}
