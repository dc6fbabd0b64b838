"""OAuth 2.0 authorization-code flow with PKCE (RFC 7636) and the refresh grant, on ``requests``."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import urllib.parse
from dataclasses import dataclass

import requests

from fitbit_assets.google_health import SCOPES


class ConsentLostError(RuntimeError):
    """The refresh token no longer works (revoked, expired, consent withdrawn): the participant must re-consent."""


class OAuthError(RuntimeError):
    """The token endpoint answered with something other than tokens or invalid_grant."""


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_at: dt.datetime
    refresh_token: str | None  # None: the server kept the current refresh token (no rotation)
    scopes: tuple[str, ...]

    def __repr__(self) -> str:  # never print a token, also not in a traceback's locals
        return f"TokenResponse(expires_at={self.expires_at.isoformat()}, rotated={self.refresh_token is not None})"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    state: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(64)[:96]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return cls(verifier, challenge, secrets.token_urlsafe(24))


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str | None
    authorize_url: str
    token_url: str
    timeout: float = 30.0

    def consent_url(self, redirect_uri: str, pkce: Pkce) -> str:
        query = {
            "client_id": self.client_id, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": " ".join(SCOPES), "state": pkce.state, "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            # offline: a refresh token for scheduled pulls; consent: Google returns one only on a consent screen
            "access_type": "offline", "prompt": "consent",
        }
        return f"{self.authorize_url}?{urllib.parse.urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, pkce: Pkce) -> TokenResponse:
        response = self._post({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                               "code_verifier": pkce.verifier})
        if response.refresh_token is None:
            raise OAuthError("the token endpoint returned no refresh token: scheduled pulls need offline access")
        return response

    def refresh(self, refresh_token: str) -> TokenResponse:
        return self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _post(self, form: dict[str, str]) -> TokenResponse:
        form = {**form, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        try:
            response = requests.post(self.token_url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise OAuthError(f"token endpoint {self.token_url} unreachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 400 and body.get("error") == "invalid_grant":
            # Google: "Token has been expired or revoked." The description names no secret.
            raise ConsentLostError(f"invalid_grant: {body.get('error_description', 'refresh token no longer valid')}")
        if response.status_code != 200 or "access_token" not in body:
            raise OAuthError(
                f"token endpoint {self.token_url} answered HTTP {response.status_code} "
                f"(error {body.get('error')!r}: {body.get('error_description', '')})"
            )
        now = dt.datetime.now(dt.timezone.utc)
        return TokenResponse(
            access_token=body["access_token"],
            expires_at=now + dt.timedelta(seconds=int(body.get("expires_in", 3600))),
            refresh_token=body.get("refresh_token"),
            scopes=tuple(str(body.get("scope", " ".join(SCOPES))).split()),
        )
