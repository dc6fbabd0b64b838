"""Named users of the HTTP API: passwords (argon2id, argon2-cffi), per-user API tokens and dashboard sessions.

The CLI (``fitbit-assets users``) changes users on the schema owner's connection; the API reads them on its own
login role (which may select users and tokens, keep sessions, and nothing else of these tables). Tokens and
session secrets are random 256-bit values: only their SHA-256 is stored (a slow hash would cost every request and
adds nothing for a secret nobody chose).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fitbit_assets.domain.access import Principal, check_password, check_user
from fitbit_assets.serving import audit
from fitbit_assets.warehouse.sql_files import sql_query

SESSION_LIFETIME = dt.timedelta(hours=12)
TOKEN_PREFIX = "fa_"
_hasher = PasswordHasher()
# Verified when the user does not exist, so an unknown name takes as long as a wrong password.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


# The shapes of what add_token and start_session hand out: anything else is refused without a database lookup.
_TOKEN_SHAPE = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}")
_SESSION_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def could_be_token(value: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(value) is not None


def could_be_session(value: str) -> bool:
    return _SESSION_SHAPE.fullmatch(value) is not None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(cur, actor: str, name: str, role: str, sites: tuple[str, ...], password: Optional[str]) -> None:
    """Add (or redefine and re-activate) a user; audited as user_add."""
    check_user(name, role, sites)
    if password is not None:
        check_password(password)
    cur.execute(sql_query("api_user_upsert"), {
        "user_name": name, "role": role, "sites": list(sites),
        "password_hash": _hasher.hash(password) if password is not None else None,
    })
    audit.append(cur, actor, "user_add", "cli users add", detail={"user": name, "role": role, "sites": list(sites),
                                                                   "password": password is not None})


def revoke_user(cur, actor: str, name: str) -> bool:
    cur.execute(sql_query("api_user_revoke"), {"user_name": name})
    revoked = bool(cur.fetchone()[0])
    if revoked:
        audit.append(cur, actor, "user_revoke", "cli users revoke", detail={"user": name})
    return revoked


def add_token(cur, actor: str, name: str, label: str) -> str:
    """A new API token of ``name`` (shown once; only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    cur.execute(sql_query("api_token_insert"), {"token_hash": secret_hash(token), "user_name": name, "label": label})
    audit.append(cur, actor, "token_add", "cli users token", detail={"user": name, "label": label})
    return token


def list_users(cur) -> list[dict]:
    cur.execute(sql_query("api_user_list"))
    columns = [c.name for c in cur.description]
    return [dict(zip(columns, row)) for row in cur.fetchall()]


def any_active_user(cur) -> bool:
    cur.execute(sql_query("api_user_any_active"))
    return bool(cur.fetchone()[0])


def _principal(row) -> Principal:
    return Principal(row[0], row[1], tuple(row[2] or ()))


def principal_for_token(cur, token: str) -> Optional[Principal]:
    cur.execute(sql_query("api_user_by_token"), {"token_hash": secret_hash(token)})
    row = cur.fetchone()
    return _principal(row) if row else None


def check_sign_in(cur, name: str, password: str) -> Optional[Principal]:
    """The user when ``password`` is theirs; None otherwise (same work for an unknown user)."""
    cur.execute(sql_query("api_user_for_sign_in"), {"user_name": name})
    row = cur.fetchone()
    stored = row[3] if row and row[3] else _UNKNOWN_USER_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _principal(row) if row and row[3] else None


def start_session(cur, principal: Principal) -> tuple[str, str]:
    """(session secret for the cookie, CSRF token) of a new session."""
    session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    cur.execute(sql_query("api_session_insert"), {
        "session_hash": secret_hash(session), "csrf_token": csrf, "user_name": principal.name,
        "lifetime": SESSION_LIFETIME,
    })
    return session, csrf


def session_principal(cur, session: str) -> Optional[tuple[Principal, str]]:
    """(user, CSRF token) of a live session."""
    cur.execute(sql_query("api_session_user"), {"session_hash": secret_hash(session)})
    row = cur.fetchone()
    return (_principal(row), row[3]) if row else None


def end_session(cur, session: str) -> None:
    cur.execute(sql_query("api_session_delete"), {"session_hash": secret_hash(session)})
