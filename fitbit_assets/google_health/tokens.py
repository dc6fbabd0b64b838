"""Participants' OAuth tokens in the warehouse, Fernet-encrypted, and their consent state.

Which token is valid when: Google keeps a refresh token valid after it issued a newer one (until revoked, or until
the account holds too many for the client), so a refresh that is answered but never saved (crash before COMMIT)
leaves the stored token working. The refresh runs under ``SELECT ... FOR UPDATE`` of the participant's row, and the
new access token, its expiry and a rotated refresh token are written in that same transaction: no process ever sees
half a rotation, and two run workers never refresh one account at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

from cryptography.fernet import Fernet, InvalidToken

from fitbit_assets.google_health import withheld_types
from fitbit_assets.google_health.oauth import ConsentLostError, OAuthClient, TokenResponse
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query

ACTIVE, RECONSENT_NEEDED = "active", "reconsent_needed"
# Documented error reasons that stop a participant's pulls (client.py), each its own state with the action to take.
ACCOUNT_NOT_LINKED, LEGACY_ACCOUNT = "account_not_linked", "legacy_account"
ACTIONS = {
    RECONSENT_NEEDED: "run `fitbit-assets connect {participant}` with the participant to consent again",
    ACCOUNT_NOT_LINKED: "ask the participant to open the Fitbit app and set up (or migrate to) their Google Health "
                        "profile with the Google Account they consented with; pulls resume by themselves",
    LEGACY_ACCOUNT: "a legacy Fitbit account consented: the participant signs out of the Fitbit app, signs in with "
                    "their Google Account, then run `fitbit-assets connect {participant}` again",
}


def account_reason(state: str, participant_id: str, cause: str) -> str:
    """The stored reason of a non-active state: what went wrong, then what to do."""
    return f"{cause}. Action: {ACTIONS[state].format(participant=participant_id)}"
# Refresh this long before expiry, so a token never expires in the middle of a day's pages.
REFRESH_MARGIN = dt.timedelta(minutes=5)


class TokenKeyError(RuntimeError):
    """No or wrong FITBIT_TOKEN_ENCRYPTION_KEY for the stored tokens."""


class NotConnectedError(RuntimeError):
    """The participant has never run ``fitbit-assets connect``."""


class TokenStore:
    def __init__(self, connection: Callable[[], AbstractContextManager], key: str | None):
        if not key:
            raise TokenKeyError("FITBIT_TOKEN_ENCRYPTION_KEY is not set: google_health tokens cannot be read or saved")
        self._fernet = Fernet(key.encode())
        self._connection = connection

    def _encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def _decrypt(self, blob, participant_id: str) -> str:
        try:
            return self._fernet.decrypt(bytes(blob)).decode()
        except InvalidToken:
            raise TokenKeyError(
                f"the stored tokens of {participant_id} do not decrypt with FITBIT_TOKEN_ENCRYPTION_KEY "
                "(key changed?): restore the key, or run `fitbit-assets connect` again"
            ) from None

    def save_consent(self, participant_id: str, tokens: TokenResponse, identity: dict) -> list[str]:
        """A fresh consent (``connect``): store the tokens, the Google Health identity (``users.getIdentity``) and
        the data types whose scope was withheld, and mark the participant active. Returns the withheld types."""
        withheld = withheld_types(tokens.scopes)
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_account_upsert"), {
                "participant_id": participant_id, "refresh_token_enc": self._encrypt(tokens.refresh_token or ""),
                "access_token_enc": self._encrypt(tokens.access_token), "expires_at": tokens.expires_at,
                "scopes": list(tokens.scopes), "health_user_id": identity.get("healthUserId"),
                "legacy_user_id": identity.get("legacyUserId"), "withheld_data_types": withheld,
                "withheld_reason": "scope not granted at consent" if withheld else None,
            })
        return withheld

    def account(self, participant_id: str) -> tuple[str | None, set[str]]:
        """(state, the data types not to request: scope withheld at consent or refused since); (None, empty) for a
        participant who never connected."""
        with self._connection() as conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_account_withheld"), {"participant_id": participant_id})
            row = cur.fetchone()
        return (row[0], set(row[1])) if row else (None, set())

    def mark_withheld(self, participant_id: str, data_types: list[str], reason: str) -> None:
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_withheld_add"),
                        {"participant_id": participant_id, "data_types": data_types, "reason": reason})

    def mark_state(self, participant_id: str, state: str, cause: str) -> None:
        """A documented error's account state (``ACTIONS``), the reason naming the action; tokens are kept."""
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_account_state"), {
                "participant_id": participant_id, "state": state,
                "reason": account_reason(state, participant_id, cause)})

    def mark_active(self, participant_id: str) -> None:
        """An account that was not linked answered: pulls work again."""
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_account_state"),
                        {"participant_id": participant_id, "state": ACTIVE, "reason": None})

    def access_token(self, participant_id: str, oauth: OAuthClient, *, force_refresh: bool = False,
                     after_refresh: Callable[[], None] | None = None) -> str:
        """A valid access token, refreshed (and a rotated refresh token saved) when it is about to expire.

        Raises ``ConsentLostError`` when consent is gone (already recorded, or invalid_grant now: recorded here).
        ``after_refresh`` runs between the token endpoint's answer and the save (tests simulate a crash there).
        """
        with self._connection() as conn:
            with transaction(conn) as cur:
                cur.execute(sql_query("google_health_account_lock"), {"participant_id": participant_id})
                row = cur.fetchone()
                if row is None:
                    raise NotConnectedError(
                        f"participant {participant_id} has no Google Health account: run `fitbit-assets connect "
                        f"{participant_id}`"
                    )
                refresh_enc, access_enc, expires_at, state, reason = row
                if state not in (ACTIVE, ACCOUNT_NOT_LINKED):  # not linked: retried, it may be set up by now
                    raise ConsentLostError(f"{state} since an earlier pull ({reason})")
                now = dt.datetime.now(dt.timezone.utc)
                if not force_refresh and access_enc is not None and expires_at - REFRESH_MARGIN > now:
                    return self._decrypt(access_enc, participant_id)
                try:
                    tokens = oauth.refresh(self._decrypt(refresh_enc, participant_id))
                except ConsentLostError as exc:
                    cur.execute(sql_query("google_health_consent_lost"),
                                {"participant_id": participant_id, "reason": str(exc)})
                    conn.commit()
                    raise
                if after_refresh is not None:
                    after_refresh()
                cur.execute(sql_query("google_health_tokens_update"), {
                    "participant_id": participant_id, "access_token_enc": self._encrypt(tokens.access_token),
                    "expires_at": tokens.expires_at,
                    "refresh_token_enc": self._encrypt(tokens.refresh_token) if tokens.refresh_token else None,
                })
                return tokens.access_token

    def mark_consent_lost(self, participant_id: str, reason: str) -> None:
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_consent_lost"), {"participant_id": participant_id, "reason": reason})
