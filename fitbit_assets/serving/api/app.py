"""HTTP API and coordinator dashboard over the read-only query layer (``fitbit_assets.serving.query``).

``create_app()`` builds the FastAPI app from the routers in ``routers/`` (one per resource): JSON endpoints
under ``/api`` (OpenAPI docs at ``/docs``) and the dashboard (plain HTML/JS + vendored uPlot) at ``/``.
``fitbit-assets serve`` / ``make serve`` runs it.

Environment (``fitbit_assets.settings``, read by ``ApiConfig.from_env``):

==========================  ==============================================================================
``FITBIT_API_DSN``          database the API reads (default: the warehouse DSN / the embedded PostgreSQL)
``FITBIT_API_ROLE``         role the API switches to with SET ROLE (default ``fitbit_api_reader``; none = no role)
``FITBIT_API_TOKEN``        when set, every ``/api`` call needs ``Authorization: Bearer <token>``
``FITBIT_API_MAX_POINTS``   default and upper limit of points per series response (default 2000)
``FITBIT_API_MAX_RANGE_DAYS``  longest series / adherence range accepted (default 1830 days)
``FITBIT_ALERT_*``          the alert channel (SMTP / webhook) used by the "contact participant" action
==========================  ==============================================================================
"""

from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from fitbit_assets.serving.api.config import ApiConfig
from fitbit_assets.serving.api.routers import ROUTERS
from fitbit_assets.serving.api.routers.dashboard import STATIC_DIR
from fitbit_assets.serving.query import QueryError, UnknownParticipant
from fitbit_assets.warehouse.connection import WarehouseUnavailableError

DESCRIPTION = (
    "Read-only access to the Fitbit study warehouse: participants, heart-rate series at an automatic "
    "resolution (raw / 1 min / 1 h / 1 day, at most `max_points` points), daily wear-time adherence and a "
    "cohort overview for coordinators. The dashboard is at `/`."
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    if app.state.db is not None:
        app.state.db.close()


def unavailable(_: Request, exc: WarehouseUnavailableError) -> JSONResponse:
    return JSONResponse({"detail": f"database unavailable: {exc}"}, status_code=503)


def unknown_participant(_: Request, exc: UnknownParticipant) -> JSONResponse:
    return JSONResponse({"detail": f"unknown participant {exc.args[0]!r}"}, status_code=404)


def bad_query(_: Request, exc: QueryError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def create_app(config: Optional[ApiConfig] = None) -> FastAPI:
    app = FastAPI(lifespan=lifespan, title="fitbit-assets API", version="0.1.0", description=DESCRIPTION)
    app.state.config = config or ApiConfig.from_env()
    app.state.db = None  # opened on first use (dependencies.AppDatabase)
    app.add_exception_handler(WarehouseUnavailableError, unavailable)
    app.add_exception_handler(UnknownParticipant, unknown_participant)
    app.add_exception_handler(QueryError, bad_query)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
