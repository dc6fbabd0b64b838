"""``fitbit-assets connect <participant_id>``: a participant's consent, tokens stored encrypted in the warehouse.

The consent URL is printed; the redirect is caught on a loopback port (the participant's browser on this machine)
or, with ``--paste``, the redirect URL (or just its code) is pasted back (consent given on another device).
Only the scopes the pipeline reads are requested. Nothing secret is printed.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

from fitbit_assets.domain.roster import Roster
from fitbit_assets.google_health import SOURCE
from fitbit_assets.google_health.oauth import OAuthClient, OAuthError, Pkce
from fitbit_assets.google_health.tokens import TokenStore


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


def connect(participant_id: str, roster: Roster, oauth: OAuthClient, store: TokenStore, *, port: int = 0,
            paste: Callable[[str], str] | None = None, say: Callable[[str], None] = print,
            timeout: float = 600.0) -> tuple[str, ...]:
    """Run the consent flow for one roster participant; returns the granted scopes."""
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
    store.save_consent(participant_id, tokens)
    say(f"participant {participant_id} connected; scopes granted: {' '.join(tokens.scopes)}")
    return tokens.scopes
