"""Dashboard sign-in: a session cookie (HttpOnly, SameSite=Strict, Secure over https) and its CSRF token, which
every unsafe request of the session sends back in ``X-CSRF-Token``. Scripts use per-user API tokens instead."""

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from fitbit_assets.serving import audit, users
from fitbit_assets.serving.api.db import write_transaction
from fitbit_assets.serving.api.dependencies import SESSION_COOKIE, Caller, Database, UserManager, session_cookie
from fitbit_assets.serving.api.models import BAD_BODY, ERRORS, Problem, SessionResponse, SignInRequest, UserRow

router = APIRouter(prefix="/api", tags=["session"])


@router.post("/session", responses={**BAD_BODY, 401: {"model": Problem, "description": "wrong user name or password"},
                                    409: {"model": Problem, "description": "this server runs without sign-in"}})
def sign_in(body: SignInRequest, request: Request, response: Response, db: Database) -> SessionResponse:
    if not db.sign_in_required():
        raise HTTPException(409, "this server runs without sign-in (FITBIT_API_AUTH): there is nothing to sign in to")
    with db.connection() as conn:
        with conn.cursor() as cur:
            principal = users.check_sign_in(cur, body.user_name, body.password)
        with write_transaction(conn) as cur:  # a failed sign-in is committed to the audit trail before its 401
            audit.append(cur, body.user_name if principal else f"(unverified) {body.user_name}",
                         "sign_in" if principal else "sign_in_failed", "POST /api/session",
                         detail={"client": request.client.host if request.client else ""})
            session, csrf = users.start_session(cur, principal) if principal else (None, None)
    if principal is None:
        raise HTTPException(401, "wrong user name or password")
    response.set_cookie(SESSION_COOKIE, session, max_age=int(users.SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return SessionResponse(user_name=principal.name, role=principal.role, sites=list(principal.sites),
                           sign_in_required=True, csrf_token=csrf)


@router.get("/session", responses=ERRORS)
def who_am_i(principal: Caller, db: Database,
             session: Annotated[Optional[str], Depends(session_cookie)]) -> SessionResponse:
    """The signed-in user (and the session's CSRF token, readable by the dashboard's own origin only)."""
    csrf = None
    if session and db.sign_in_required():
        with db.connection() as conn, conn.cursor() as cur:
            found = users.session_principal(cur, session)
            csrf = found[1] if found else None
    return SessionResponse(user_name=principal.name, role=principal.role, sites=list(principal.sites),
                           sign_in_required=db.sign_in_required(), csrf_token=csrf)


@router.delete("/session", status_code=204, responses=ERRORS)
def sign_out(principal: Caller, response: Response, db: Database,
             session: Annotated[Optional[str], Depends(session_cookie)]) -> None:
    if session and db.sign_in_required():
        with db.connection() as conn, write_transaction(conn) as cur:
            users.end_session(cur, session)
            audit.append(cur, principal.name, "sign_out", "DELETE /api/session")
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/users", responses=ERRORS)
def list_users(principal: UserManager, db: Database) -> list[UserRow]:
    """Every user with role, sites and number of API tokens (admins; changes: `fitbit-assets users`)."""
    with db.connection() as conn, conn.cursor() as cur:
        return [UserRow(**row) for row in users.list_users(cur)]
