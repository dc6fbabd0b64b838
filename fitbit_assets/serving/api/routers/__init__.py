"""One ``APIRouter`` per resource; ``create_app`` includes them in ``ROUTERS`` order."""

from fitbit_assets.serving.api.routers import (
    adherence,
    cohort,
    dashboard,
    health,
    participants,
    series,
    session,
    sleep,
)

ROUTERS = [
    health.router,
    session.router,
    participants.router,
    series.router,
    adherence.router,
    sleep.router,
    cohort.router,
    dashboard.router,
]
