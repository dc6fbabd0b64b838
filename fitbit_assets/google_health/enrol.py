"""``fitbit-assets connect <participant_id>``: a participant's consent, tokens stored encrypted in the warehouse.

The consent URL is printed; the redirect is caught on a loopback port (the participant's browser on this machine)
or, with ``--paste``, the redirect URL (or just its code) is pasted back (consent given on another device).
Only the scopes the pipeline reads are requested; the participant may withhold some (Google's consent screen has one
box per scope): the types of a withheld scope are printed, stored and skipped by the pulls, the rest is pulled.
Nothing secret is printed.

The redirect goes to ``http://127.0.0.1:<port>/callback``, which Google accepts only for an OAuth client of type
*Desktop app* (any loopback port; docs/google-health.md). A *Web* client would need that exact URI
registered: then run with a fixed ``--port`` and register ``http://127.0.0.1:<port>/callback``.

After the token exchange ``users.getIdentity`` gives the account's ``healthUserId`` (stored, it names the user in
subscriptions and notifications) and ``legacyUserId``, its Fitbit Web API user id: a participant enrolled through
the Fitbit Web API is linked by passing that id (``--fitbit-user-id``), and a consent by another account is refused,
so the participant's history stays one participant's.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg2.errors

from fitbit_assets.domain.roster import Roster
from fitbit_assets.google_health import SOURCE
from fitbit_assets.google_health.client import (
    AccountNotLinkedError,
    ApiError,
    HealthApiClient,
    LegacyAccountError,
    UserQuota,
)
from fitbit_assets.google_health.oauth import OAuthClient, OAuthError, Pkce
from fitbit_assets.google_health.tokens import ACCOUNT_NOT_LINKED, ACTIONS, LEGACY_ACCOUNT, TokenStore


class EnrolmentError(RuntimeError):
    pass


def code_from_redirect(text: str, state: str) -> str:
    """The code of a pasted redirect URL (its ``state`` checked), or the pasted code itself."""
    text = text.strip()
    if "?" not in text and "=" not in text:
        return text
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(text).query)
    if "error" in query:
        raise EnrolmentError(f"consent was not given: {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise EnrolmentError("the redirect's state does not match this enrolment (an old or foreign consent URL)")
    if "code" not in query:
        raise EnrolmentError("the pasted URL has no code parameter")
    return query["code"][0]


class _Catcher(BaseHTTPRequestHandler):
    redirect: list

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.redirect.append(f"http://{self.headers.get('Host', 'localhost')}{self.path}")
        body = b"Thank you: the study pipeline is connected. You can close this window.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def connect(participant_id: str, roster: Roster, oauth: OAuthClient, store: TokenStore, *, api_url: str,
            port: int = 0, paste: Callable[[str], str] | None = None, say: Callable[[str], None] = print,
            timeout: float = 600.0, fitbit_user_id: str | None = None,
            subscribe: Callable[[str], str] | None = None) -> tuple[str, ...]:
    """Run the consent flow for one roster participant; returns the granted scopes. ``subscribe(participant_id)``
    creates or renews their push subscription once the consent is stored (its outcome is printed: a failure leaves
    the consent stored, and the subscription sensor retries)."""
    participant = roster.get(participant_id)
    if participant.source != SOURCE:
        raise EnrolmentError(f"participant {participant_id} has source {participant.source!r}, not {SOURCE!r}")
    if not oauth.client_id:
        raise EnrolmentError("FITBIT_GOOGLE_CLIENT_ID is not set")
    pkce = Pkce.new()
    redirect: list[str] = []
    server = HTTPServer(("127.0.0.1", port), type("Catcher", (_Catcher,), {"redirect": redirect}))
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    try:
        say(f"Open this URL and consent for participant {participant_id}:\n{oauth.consent_url(redirect_uri, pkce)}")
        if paste is not None:
            server.server_close()
            code = code_from_redirect(paste("Paste the URL your browser was sent to (or its code): "), pkce.state)
        else:
            say(f"Waiting for the redirect on {redirect_uri} ...")
            server.timeout = timeout
            waiter = threading.Thread(target=server.handle_request, daemon=True)
            waiter.start()
            waiter.join(timeout)
            if not redirect:
                raise EnrolmentError(f"no redirect within {timeout:g} s; run again, or use --paste")
            code = code_from_redirect(redirect[0], pkce.state)
    finally:
        server.server_close()
    try:
        tokens = oauth.exchange_code(code, redirect_uri, pkce)
    except OAuthError as exc:
        raise EnrolmentError(str(exc)) from None
    try:
        identity = HealthApiClient(api_url, lambda _force: tokens.access_token, UserQuota()).identity()
    except (AccountNotLinkedError, LegacyAccountError) as exc:
        state = ACCOUNT_NOT_LINKED if isinstance(exc, AccountNotLinkedError) else LEGACY_ACCOUNT
        raise EnrolmentError(f"users.getIdentity failed, nothing stored: {exc}. Action: "
                             f"{ACTIONS[state].format(participant=participant_id)}") from None
    except ApiError as exc:
        raise EnrolmentError(f"users.getIdentity failed, nothing stored: {exc}") from None
    if fitbit_user_id is not None and identity.get("legacyUserId") != fitbit_user_id:
        raise EnrolmentError(
            f"the consenting account's Fitbit user id is {identity.get('legacyUserId')!r}, not {fitbit_user_id!r}: "
            f"participant {participant_id} must consent with the account they enrolled with; nothing stored")
    try:
        withheld = store.save_consent(participant_id, tokens, identity)
    except psycopg2.errors.UniqueViolation:
        raise EnrolmentError(f"this Google account (healthUserId {identity.get('healthUserId')}) is already connected "
                             f"to another participant: participant {participant_id} must consent with their own "
                             "account; nothing stored") from None
    say(f"participant {participant_id} connected (healthUserId {identity.get('healthUserId')}); scopes granted: "
        f"{' '.join(tokens.scopes)}")
    if withheld:
        say(f"not granted, so not pulled: {', '.join(withheld)} (connect again to grant them)")
    if subscribe is not None:
        say(f"push subscription: {subscribe(participant_id)}")
    return tokens.scopes
