"""What the routers ask FastAPI for: the app's config and database, who is asking (``Caller``: a session cookie
with its CSRF header, a per-user API token, or the local user of a server without sign-in), what their role lets
them do, and the path and query parameter types shared by several operations."""

import datetime as dt
import secrets
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from fitbit_assets.domain.access import LOCAL, Principal
from fitbit_assets.serving import users
from fitbit_assets.serving.api.config import ApiConfig
from fitbit_assets.serving.api.db import ApiDatabase

PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,64}$"
ParticipantId = Annotated[str, PathParam(pattern=PARTICIPANT_ID, description="participant_id from the roster")]
DateQuery = Annotated[Optional[dt.date], Query(description="local date, inclusive")]
SESSION_COOKIE = "fitbit_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOCAL_USER = Principal("local (no sign-in)", LOCAL)

bearer = HTTPBearer(auto_error=False, description="a per-user API token (`fitbit-assets users token`)")
session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="dashboard session (POST /api/session)")


# The dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off per
# dependency per request. ``caller`` hands only its database lookup to the pool.
async def app_config(request: Request) -> ApiConfig:
    return request.app.state.config


Config = Annotated[ApiConfig, Depends(app_config)]


class AppDatabase:
    """The app's database (``app.state.db``), opened on first use: a request rejected by validation never
    connects, and tests may put their own ``ApiDatabase`` in ``app.state.db``."""

    def __init__(self, app: FastAPI):
        self.app = app

    def connection(self):
        state = self.app.state
        if state.db is None:
            config = state.config
            state.db = ApiDatabase(config.resolved_dsn(), role=config.role, pool_size=config.pool_size,
                                   pool_wait_seconds=config.pool_wait_seconds)
        return state.db.connection()

    def sign_in_required(self) -> bool:
        """FITBIT_API_AUTH; ``auto``: on when an active user exists, looked up once per app."""
        state = self.app.state
        if state.sign_in_required is None:
            if state.config.auth == "auto":
                with self.connection() as conn, conn.cursor() as cur:
                    state.sign_in_required = users.any_active_user(cur)
            else:
                state.sign_in_required = state.config.auth == "on"
        return state.sign_in_required


async def app_database(request: Request) -> AppDatabase:
    return AppDatabase(request.app)


Database = Annotated[AppDatabase, Depends(app_database)]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _verified_caller(request: Request, db: AppDatabase, credentials: Optional[HTTPAuthorizationCredentials],
                     session: Optional[str]) -> Principal:
    """The user of a well-formed token or session, looked up in the database (blocking)."""
    with db.connection() as conn, conn.cursor() as cur:
        if credentials is not None:
            principal = users.principal_for_token(cur, credentials.credentials)
            if principal is None:
                raise unauthorized("invalid or revoked API token")
            return principal
        found = users.session_principal(cur, session)
    if found is None:
        raise unauthorized("session expired or signed out: sign in again")
    principal, csrf = found
    if request.method not in SAFE_METHODS and not secrets.compare_digest(
        request.headers.get(CSRF_HEADER, "").encode(), csrf.encode()
    ):
        raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    return principal


async def caller(
    request: Request,
    db: Database,
    credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)],
    session: Annotated[Optional[str], Depends(session_cookie)],
) -> Principal:
    """Who is asking. A session also needs its CSRF token in ``X-CSRF-Token`` on every unsafe request.

    A request without a credential, or with one no user could hold, is refused here on the event loop: a flood of
    them takes neither a worker thread nor a pooled connection from the signed-in requests."""
    required = db.app.state.sign_in_required  # resolved once per app; until then by a lookup in the thread pool
    if not (required if required is not None else await run_in_threadpool(db.sign_in_required)):
        return LOCAL_USER
    if credentials is not None:
        if not users.could_be_token(credentials.credentials):
            raise unauthorized("invalid or revoked API token")
    elif not session:
        raise unauthorized("sign in (POST /api/session) or send Authorization: Bearer <API token>")
    elif not users.could_be_session(session):
        raise unauthorized("session expired or signed out: sign in again")
    return await run_in_threadpool(_verified_caller, request, db, credentials, session)


Caller = Annotated[Principal, Depends(caller)]


async def participant_reader(principal: Caller) -> Principal:
    if not principal.reads_participants:
        raise HTTPException(403, f"a {principal.role} does not read participant data")
    return principal


async def participant_contacter(principal: Caller) -> Principal:
    if not principal.contacts_participants:
        raise HTTPException(403, f"a {principal.role} does not contact participants")
    return principal


async def user_manager(principal: Caller) -> Principal:
    if not principal.manages_users:
        raise HTTPException(403, f"a {principal.role} does not manage users")
    return principal


Reader = Annotated[Principal, Depends(participant_reader)]
Contacter = Annotated[Principal, Depends(participant_contacter)]
UserManager = Annotated[Principal, Depends(user_manager)]
