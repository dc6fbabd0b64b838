"""HTTP API and coordinator dashboard over the query layer (``fitbit_assets.serving.query``).

``create_app()`` builds the FastAPI app from the routers in ``routers/`` (one per resource): JSON endpoints
under ``/api`` (the OpenAPI description at ``/openapi.json``) and the dashboard (plain HTML/JS + vendored uPlot)
at ``/`` with its sign-in page at ``/signin``. ``fitbit-assets serve`` / ``make serve`` runs it. Settings:
``FITBIT_API_*`` (``settings.py``, docs/api.md).

Every request passes the Host allow-list and the body limit first; every response carries the security headers
(``middleware.py``). Errors the caller cannot fix are logged with their details and answered with a generic body:
a 500 says only that it is logged, a 503 says which resource is short (database unreachable, connections busy).
"""

import logging
import uuid
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from fitbit_assets.serving.api.config import ApiConfig
from fitbit_assets.serving.api.db import PoolBusyError
from fitbit_assets.serving.api.middleware import RequestGuard
from fitbit_assets.serving.api.routers import ROUTERS
from fitbit_assets.serving.api.routers.dashboard import STATIC_DIR
from fitbit_assets.serving.api.shared_reads import SharedReads
from fitbit_assets.serving.query import QueryError, UnknownParticipant
from fitbit_assets.warehouse.connection import WarehouseUnavailableError

log = logging.getLogger(__name__)
DESCRIPTION = (
    "Access to the Fitbit study warehouse for named users: participants, heart-rate series at an automatic "
    "resolution (raw / 1 min / 1 h / 1 day, at most `max_points` points), daily wear-time adherence, a cohort "
    "overview and participant reminders for coordinators. Every read of participant data is audited. The "
    "dashboard is at `/`."
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    if app.state.db is not None:
        app.state.db.close()


def unavailable(_: Request, exc: WarehouseUnavailableError) -> JSONResponse:
    if isinstance(exc, PoolBusyError):  # names the limit; nothing about the server
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})
    incident = uuid.uuid4().hex[:12]
    log.error("database unavailable [%s]: %s", incident, exc)
    return JSONResponse({"detail": f"database unavailable (logged as {incident})"}, status_code=503)


def internal_error(_: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("internal error [%s]", incident, exc_info=exc)
    return JSONResponse({"detail": f"internal error (logged as {incident})"}, status_code=500)


def unknown_participant(_: Request, exc: UnknownParticipant) -> JSONResponse:
    return JSONResponse({"detail": f"unknown participant {exc.args[0]!r}"}, status_code=404)


def bad_query(_: Request, exc: QueryError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def create_app(config: Optional[ApiConfig] = None) -> FastAPI:
    # No /docs or /redoc: their pages load scripts from a CDN. The OpenAPI description stays at /openapi.json.
    app = FastAPI(lifespan=lifespan, title="fitbit-assets API", version="0.2.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.config = config or ApiConfig.from_env()
    app.state.db = None  # opened on first use (dependencies.AppDatabase)
    app.state.sign_in_required = None  # FITBIT_API_AUTH resolved on first use
    app.state.shared_reads = SharedReads()
    app.add_exception_handler(WarehouseUnavailableError, unavailable)
    app.add_exception_handler(UnknownParticipant, unknown_participant)
    app.add_exception_handler(QueryError, bad_query)
    app.add_exception_handler(Exception, internal_error)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Added last = runs first: the Host check, then the body limit, before any route or sign-in check.
    app.add_middleware(RequestGuard, max_body_bytes=app.state.config.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(app.state.config.allowed_hosts))
    return app
