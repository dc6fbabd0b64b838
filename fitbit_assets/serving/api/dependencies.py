"""What the routers ask FastAPI for: the app's config and database, the bearer-token check, the path and
query parameter types shared by several operations."""

import datetime as dt
import secrets
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fitbit_assets.serving.api.config import ApiConfig
from fitbit_assets.serving.api.db import ReadOnlyDatabase

PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,64}$"
ParticipantId = Annotated[str, PathParam(pattern=PARTICIPANT_ID, description="participant_id from the roster")]
DateQuery = Annotated[Optional[dt.date], Query(description="local date, inclusive")]

bearer = HTTPBearer(auto_error=False, description="FITBIT_API_TOKEN, when the server sets one")


def app_config(request: Request) -> ApiConfig:
    return request.app.state.config


Config = Annotated[ApiConfig, Depends(app_config)]


class AppDatabase:
    """The app's read-only database (``app.state.db``), opened on first use: a request rejected by validation
    never connects, and tests may put their own ``ReadOnlyDatabase`` in ``app.state.db``."""

    def __init__(self, app: FastAPI):
        self.app = app

    def connection(self):
        state = self.app.state
        if state.db is None:
            state.db = ReadOnlyDatabase(state.config.resolved_dsn(), role=state.config.role)
        return state.db.connection()


def app_database(request: Request) -> AppDatabase:
    return AppDatabase(request.app)


Database = Annotated[AppDatabase, Depends(app_database)]


def authorized(
    config: Config, credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)]
) -> None:
    if config.token is None:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), config.token.encode()):
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


SECURED = [Depends(authorized)]
