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

from fitbit_assets.google_health.oauth import ConsentLostError, OAuthClient, TokenResponse
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query

ACTIVE, RECONSENT_NEEDED = "active", "reconsent_needed"
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

    def save_consent(self, participant_id: str, tokens: TokenResponse) -> None:
        """A fresh consent (``connect``): store the tokens and mark the participant active."""
        with self._connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_account_upsert"), {
                "participant_id": participant_id, "refresh_token_enc": self._encrypt(tokens.refresh_token or ""),
                "access_token_enc": self._encrypt(tokens.access_token), "expires_at": tokens.expires_at,
                "scopes": list(tokens.scopes),
            })

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
                if state != ACTIVE:
                    raise ConsentLostError(f"re-consent needed since an earlier pull ({reason})")
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
