"""A loopback fake of the Google Health API and Google's OAuth endpoints, written from the published reference.

Follows: ``GET /v4/users/me/dataTypes/heart-rate/dataPoints`` with ``filter`` (``heart_rate.sample_time.
physical_time >= "..." AND ... < "..."``), ``pageSize`` and ``pageToken``, answering ``{"dataPoints": [...],
"nextPageToken": ...}`` (empty token on the last page); DataPoint ``{"name", "dataSource", "heartRate":
{"beatsPerMinute", "sampleTime": {"physicalTime", "utcOffset", "civilTime"}}}``; Google's JSON error body
``{"error": {"code", "message", "status"}}``; ``daily-respiratory-rate`` with ``daily_respiratory_rate.date``
filters (``{"dailyRespiratoryRate": {"date": {"year", "month", "day"}, "breathsPerMinute"}}``); ``sleep`` with
``sleep.interval.end_time`` filters, at most 25 per page (``Sleep``: interval, type, stages, metadata, summary,
int64 summary fields as strings); ``steps`` with ``steps.interval.start_time`` filters, only while on the wrist,
``count`` omitted for a true zero (developers.google.com/health/data-presence-and-true-zeros);
``oxygen-saturation`` with ``oxygen_saturation.sample_time.physical_time`` filters (``{"oxygenSaturation":
{"percentage", "sampleTime"}}``); ``active-zone-minutes`` with ``active_zone_minutes.interval.start_time`` filters
(``{"activeZoneMinutes": {"interval", "heartRateZone", "activeZoneMinutes": int64 as a string}}``);
``POST .../dataPoints:dailyRollUp`` of one civil day for steps, distance and total-calories
(``{"rollupDataPoints": [{"civilStartTime", "civilEndTime", "<value field>": {...}}]}``, empty without data; the
body's ``dataSourceFamily`` ``google-wearables`` leaves out ``phone_rollups``); points in
descending time order as the reference says (429 RESOURCE_EXHAUSTED with Retry-After, 503 UNAVAILABLE,
401 UNAUTHENTICATED); the OAuth authorization endpoint (auto-approves, redirects with ``code`` and ``state``,
checks PKCE S256) and token endpoint (``authorization_code`` and ``refresh_token`` grants, ``invalid_grant`` for a
revoked token). Refresh-token rotation is a knob; as with Google, an older refresh token stays valid after a newer
one was issued (until revoked).

Also, from the reference: ``activity-level`` is list only (``dailyRollUp`` refuses it, as the per-type operations
tables say) with ``activity_level.interval.start_time`` filters; ``dataSourceFamily`` (list only; refused for sleep;
``google-wearables`` leaves out the points of phones and manual entries); error bodies carry an ErrorInfo ``reason``
in ``details`` (ACCOUNT_NOT_LINKED, INVALID_AUTHENTICATOR, ACCESS_TOKEN_SCOPE_INSUFFICIENT, ...); each access token
carries the scopes the user granted, and a type whose scope is missing answers 403 PERMISSION_DENIED;
``users/me/identity`` (``healthUserId``, ``legacyUserId``) and ``users/me/pairedDevices``. Push subscriptions
(``projects.subscribers.subscriptions`` create / list with a ``user`` filter and pages / patch ``dataTypes`` /
delete): only for a subscriber with a MANUAL config for each type (``add_subscriber``) and only the types
health.v4.json's ``Subscription.dataTypes`` lists (``subscribable_types``; None: any), types as
``users/{healthUserId}/dataTypes/{type}`` of the subscription's own user, one subscription per user (409
ALREADY_EXISTS), and only with a project token (``cloud-platform``) from the token endpoint's service-account JWT
grant (RFC 7523, RS256 verified against ``service_account_key``); a participant's token gets 403. Every answer is
kept in ``responses`` (the discovery test validates them against health.v4.json).

Knobs: ``withhold_scopes`` (scopes the consenting user leaves unticked), ``account_errors`` (user -> "not_linked" or
"legacy"), ``refuse_types`` (data type -> HTTP status answered for it), ``legacy_user_ids``, ``paired_devices``,
``fail_next`` (a list of (status, retry_after) answered before serving), ``stall_next`` (seconds to sleep
before answering, for client timeouts), ``page_size`` (forces pagination), ``repeat_across_pages`` (each page
starts with the previous page's last point, as overlapping reads would), ``malformed`` (a bad beatsPerMinute),
``malformed_points`` ((user, data type) pairs whose pages start with a bad point), ``rotate_refresh_tokens``, ``access_token_lifetime``, ``revoke(user)``, ``add_samples(user, ...)`` (late data).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

FILTER = re.compile(
    r'^heart_rate\.sample_time\.physical_time >= "([^"]+)" AND heart_rate\.sample_time\.physical_time < "([^"]+)"$'
)
STEPS_FILTER = re.compile(
    r'^steps\.interval\.start_time >= "([^"]+)" AND steps\.interval\.start_time < "([^"]+)"$'
)
SLEEP_FILTER = re.compile(
    r'^sleep\.interval\.end_time >= "([^"]+)" AND sleep\.interval\.end_time < "([^"]+)"$'
)
SPO2_FILTER = re.compile(
    r'^oxygen_saturation\.sample_time\.physical_time >= "([^"]+)" AND oxygen_saturation\.sample_time\.physical_time < "([^"]+)"$'
)
AZM_FILTER = re.compile(
    r'^active_zone_minutes\.interval\.start_time >= "([^"]+)" AND active_zone_minutes\.interval\.start_time < "([^"]+)"$'
)
ROLLUP_FIELDS = {"steps": "steps", "distance": "distance", "total-calories": "totalCalories"}  # DailyRollupDataPoint
ACTIVITY_LEVEL_FILTER = re.compile(
    r'^activity_level\.interval\.start_time >= "([^"]+)" AND activity_level\.interval\.start_time < "([^"]+)"$'
)
SCOPE = "https://www.googleapis.com/auth/googlehealth."
TYPE_SCOPES = {"heart-rate": SCOPE + "health_metrics_and_measurements.readonly",
               "daily-respiratory-rate": SCOPE + "health_metrics_and_measurements.readonly",
               "oxygen-saturation": SCOPE + "health_metrics_and_measurements.readonly",
               "steps": SCOPE + "activity_and_fitness.readonly", "distance": SCOPE + "activity_and_fitness.readonly",
               "total-calories": SCOPE + "activity_and_fitness.readonly",
               "activity-level": SCOPE + "activity_and_fitness.readonly",
               "active-zone-minutes": SCOPE + "activity_and_fitness.readonly", "sleep": SCOPE + "sleep.readonly",
               "pairedDevices": SCOPE + "settings.readonly"}
# health.v4.json (revision 20261030) EndpointAuthorization: "delivered in the `GOOGLE-HEALTH-API-SIGNATURE` HTTP
# header"; the reference pages of earlier revisions name it X-HEALTHAPI-SIGNATURE (the receiver reads both).
SIGNATURE_HEADER = "GOOGLE-HEALTH-API-SIGNATURE"
# health.v4.json (revision 20261030) Subscription.dataTypes: "`{data_type}` is one of ..."
SUBSCRIBABLE_TYPES = ("altitude", "distance", "floors", "sleep", "steps", "weight")
FAMILIES = {"all-sources", "google-wearables", "google-sources", "self-sources"}
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def error(status: int, message: str, reason: str | None = None, rpc_status: str | None = None) -> tuple[int, dict, dict]:
    """Google's error body, with an ErrorInfo detail when the reference documents a reason."""
    body = {"code": status, "message": message, "status": rpc_status or STATUS_NAMES[status]}
    if reason:
        body["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                            "domain": "health.googleapis.com"}]
    return status, {}, {"error": body}
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"  # scope of every projects.subscribers method
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"  # a service account's token grant (RFC 7523)
RESOURCE_ID = re.compile(r"^[a-z]([a-z0-9-]{2,34}[a-z0-9])$")  # subscriber / subscription ids (4-36 characters)
USER_FILTER = re.compile(r'^user = "users/([^"]+)"$')  # the list's AIP-160 filter on one user
DAILY_FILTER = re.compile(r'^daily_respiratory_rate\.date >= "([0-9-]+)" AND daily_respiratory_rate\.date < "([0-9-]+)"$')


def _z(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakeGoogleHealth:
    page_size: int = 10000
    access_token_lifetime: int = 3600
    rotate_refresh_tokens: bool = False
    repeat_across_pages: bool = False
    malformed: bool = False
    approve_as: str = "user-1"  # the Google account that consents at /authorize
    # The OAuth client's type (Google's rule): a "desktop" client accepts a loopback redirect on any port, a "web"
    # client only the redirect URIs registered for it; anything else is "Error 400: redirect_uri_mismatch".
    client_type: str = "desktop"
    registered_redirect_uris: set = field(default_factory=set)
    fail_next: list = field(default_factory=list)
    stall_next: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)  # user -> {physical_time: bpm}
    respiratory_rates: dict = field(default_factory=dict)  # user -> {date: breaths per minute}
    sleeps: dict = field(default_factory=dict)  # user -> {data point id: Sleep}
    steps: dict = field(default_factory=dict)  # user -> [(start, end, count or None for a true zero)]
    oxygen_saturation: dict = field(default_factory=dict)  # user -> [(physical time, percentage)], repeats allowed
    active_zone_minutes: dict = field(default_factory=dict)  # user -> [(minute start, zone, credit)], repeats allowed
    daily_rollups: dict = field(default_factory=dict)  # user -> {(data type, civil date): rollup value}
    phone_rollups: dict = field(default_factory=dict)  # user -> {(data type, civil date): value} not from the wearable
    malformed_points: set = field(default_factory=set)  # (user, data type): each page's first point has a bad value
    activity_levels: dict = field(default_factory=dict)  # user -> [(start, end, activity level type)]
    phone_samples: dict = field(default_factory=dict)  # user -> {physical_time: bpm} from a phone (not the wearable)
    sample_offsets: dict = field(default_factory=dict)  # user -> utcOffset the device reports ("0s" if unset)
    withhold_scopes: set = field(default_factory=set)  # scopes the consenting user does not grant
    user_scopes: dict = field(default_factory=dict)  # user -> scopes granted at their last consent (space-separated)
    account_errors: dict = field(default_factory=dict)  # user -> "not_linked" | "legacy"
    refuse_types: dict = field(default_factory=dict)  # data type -> HTTP status answered for it
    legacy_user_ids: dict = field(default_factory=dict)  # user -> Fitbit Web API user id
    paired_devices: dict = field(default_factory=dict)  # user -> [PairedDevice]
    responses: list = field(default_factory=list)  # (method, path, status, body) answered by the API endpoints
    # Push subscriptions (projects.subscribers / .subscriptions): subscriber name -> {data type: policy}, the
    # subscriptions by name, the service accounts (client_email -> RSA public key) and their access tokens.
    subscribers: dict = field(default_factory=dict)
    # The types a subscription may hold: health.v4.json's Subscription.dataTypes list by default; None accepts every
    # type the webhooks page lists as notified (the service may have moved past the document).
    subscribable_types: set | None = field(default_factory=lambda: set(SUBSCRIBABLE_TYPES))
    subscriptions: dict = field(default_factory=dict)
    service_accounts: dict = field(default_factory=dict)
    project_tokens: dict = field(default_factory=dict)  # token -> expires (monotonic)
    webhook_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    codes: dict = field(default_factory=dict)  # code -> (user, challenge, scopes, redirect_uri)
    refresh_tokens: dict = field(default_factory=dict)  # token -> user
    access_tokens: dict = field(default_factory=dict)  # token -> (user, expires monotonic)
    revoked_users: set = field(default_factory=set)
    requests: list = field(default_factory=list)  # (method, path, query) seen
    granted_scopes: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- knobs
    def add_samples(self, user: str, start: dt.datetime, seconds: int, step: int = 5, bpm: int = 70) -> None:
        with self.lock:
            points = self.samples.setdefault(user, {})
            for offset in range(0, seconds, step):
                points[start + dt.timedelta(seconds=offset)] = bpm + (offset // step) % 7

    def add_sleep(self, user: str, start: dt.datetime, stages: list, *, sleep_type: str = "STAGES",
                  nap: bool = False, point_id: str | None = None, main_sleep: bool | None = None) -> str:
        """A sleep session of consecutive ``(stage type, minutes)`` from ``start`` (UTC), with Google's summary;
        ``metadata.mainSleep`` (default: not a nap) is omitted when false, as proto3 JSON does."""
        t, segments = start, []
        for stage, minutes in stages:
            segments.append({"startTime": _z(t), "startUtcOffset": "0s", "endTime": _z(t + dt.timedelta(minutes=minutes)),
                             "endUtcOffset": "0s", "type": stage})
            t += dt.timedelta(minutes=minutes)
        asleep = sum(m for s, m in stages if s not in ("AWAKE", "RESTLESS"))
        awake = sum(m for s, m in stages if s == "AWAKE")
        point_id = point_id or str(len(self.sleeps.get(user, {})) + 7000000001)
        self.sleeps.setdefault(user, {})[point_id] = {
            "interval": {"startTime": _z(start), "startUtcOffset": "0s", "endTime": _z(t), "endUtcOffset": "0s"},
            "type": sleep_type, "stages": segments,
            "metadata": {"nap": nap, "processed": True, **({"mainSleep": True} if (not nap if main_sleep is None
                                                                                   else main_sleep) else {})},
            "summary": {"minutesInSleepPeriod": str(sum(m for _, m in stages)), "minutesAsleep": str(asleep),
                        "minutesAwake": str(awake), "minutesAfterWakeUp": "0", "minutesToFallAsleep": "0"},
        }
        return point_id

    def add_steps(self, user: str, start: dt.datetime, minutes: int, per_minute: int | None) -> None:
        """One-minute steps intervals while on the wrist; ``per_minute=None``: true zeros (``count`` omitted)."""
        for m in range(minutes):
            t = start + dt.timedelta(minutes=m)
            self.steps.setdefault(user, []).append((t, t + dt.timedelta(minutes=1), per_minute))

    def add_oxygen_saturation(self, user: str, start: dt.datetime, minutes: int, percentage: float = 95.0) -> None:
        """One sample a minute (as the Fitbit devices record SpO2 during sleep), alternating around ``percentage``."""
        for m in range(minutes):
            self.oxygen_saturation.setdefault(user, []).append(
                (start + dt.timedelta(minutes=m), percentage + (0.5 if m % 2 else -0.5)))

    def add_active_zone_minutes(self, user: str, start: dt.datetime, minutes: int, zone: str) -> None:
        """One-minute intervals in ``zone`` (FAT_BURN earns 1 a minute, CARDIO and PEAK 2)."""
        for m in range(minutes):
            self.active_zone_minutes.setdefault(user, []).append(
                (start + dt.timedelta(minutes=m), zone, 1 if zone == "FAT_BURN" else 2))

    def set_daily_activity(self, user: str, day: dt.date, steps: int, millimetres: int, kcal: float,
                           minutes: dict, day_start: dt.datetime) -> None:
        """A civil day's rollups of steps, distance and total-calories (int64 as strings), and its activity-level
        intervals: ``minutes`` by level type, one run after the other from ``day_start`` (UTC)."""
        rollups = self.daily_rollups.setdefault(user, {})
        rollups[("steps", day)] = {"countSum": str(steps)}
        rollups[("distance", day)] = {"millimetersSum": str(millimetres)}
        rollups[("total-calories", day)] = {"kcalSum": kcal}
        levels = self.activity_levels.setdefault(user, [])
        levels[:] = [entry for entry in levels if not day_start <= entry[0] < day_start + dt.timedelta(days=1)]
        t = day_start
        for level, m in minutes.items():
            levels.append((t, t + dt.timedelta(minutes=m), level))
            t += dt.timedelta(minutes=m)

    def add_phone_samples(self, user: str, start: dt.datetime, seconds: int, step: int = 60, bpm: int = 88) -> None:
        """Heart rate a phone app wrote (Health Connect): in all-sources and google-sources, not google-wearables."""
        points = self.phone_samples.setdefault(user, {})
        for offset in range(0, seconds, step):
            points[start + dt.timedelta(seconds=offset)] = bpm

    # --- push notifications (developers.google.com/health/notifications)
    def webhook_public_key_pem(self) -> str:
        return self.webhook_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def notification(self, user: str, data_type: str, start: dt.datetime, end: dt.datetime, *,
                     key: ec.EllipticCurvePrivateKey | None = None, authorization: str | None = None,
                     signature_header: str = SIGNATURE_HEADER) -> tuple[bytes, dict]:
        """A delivery of one UPSERT notification as Google sends it: (body, headers), signed with Google's key (or
        with ``key``, for a forged one) in ``signature_header``; ``authorization``: the subscriber's
        ``EndpointAuthorization.secret``, which health.v4.json says comes with every notification (a community
        report says live deliveries omit it: None)."""
        body = json.dumps([{"data": {
            "version": "1", "clientProvidedSubscriptionName": "study", "healthUserId": self.health_user_id(user),
            "operation": "UPSERT", "dataType": data_type,
            "intervals": [{"physicalTimeInterval": {"startTime": _z(start), "endTime": _z(end)}}]}}]).encode()
        signature = (key or self.webhook_key).sign(body, ec.ECDSA(hashes.SHA256()))
        headers = {"Content-Type": "application/json", signature_header: base64.b64encode(signature).decode()}
        if authorization is not None:
            headers["Authorization"] = authorization
        return body, headers

    @staticmethod
    def verification_requests(secret: str) -> list[tuple[bytes, dict]]:
        """The two endpoint-verification POSTs of ``projects.subscribers.create``: with the secret, then without."""
        body = json.dumps({"type": "verification"}).encode()
        return [(body, {"Content-Type": "application/json", "Authorization": secret}),
                (body, {"Content-Type": "application/json"})]

    def add_subscriber(self, name: str, data_types, policy: str = "MANUAL") -> None:
        """A subscriber created once for the study (``projects.subscribers.create``), one policy for its types."""
        self.subscribers[name] = {data_type: policy for data_type in data_types}

    def service_account_key(self, token_url: str, email: str = "push@study-project.iam.gserviceaccount.com") -> dict:
        """A service-account key file's JSON (as the Cloud console downloads it), its public key known here."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.service_accounts[email] = key.public_key()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "study-project", "private_key_id": "k1",
                "private_key": pem, "client_email": email, "client_id": "1", "token_uri": token_url}

    def user_subscriptions(self, health_user_id: str) -> list[dict]:
        return [sub for sub in self.subscriptions.values() if sub["user"] == f"users/{health_user_id}"]

    def revoke(self, user: str) -> None:
        with self.lock:
            self.revoked_users.add(user)

    def api_requests(self) -> list:
        return [r for r in self.requests if r[1].startswith("/v4/")]

    # --- endpoints
    def authorize(self, query: dict) -> tuple[int, dict, dict]:
        redirect_uri = query["redirect_uri"][0]
        loopback = re.fullmatch(r"http://(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?(/.*)?", redirect_uri)
        allowed = loopback if self.client_type == "desktop" else redirect_uri in self.registered_redirect_uris
        if not allowed:
            return 400, {}, {"error": "redirect_uri_mismatch", "error_description":
                             f"The redirect URI in the request, {redirect_uri}, does not match the ones authorized "
                             "for the OAuth client."}
        code = secrets.token_urlsafe(16)
        granted = " ".join(scope for scope in query["scope"][0].split() if scope not in self.withhold_scopes)
        self.codes[code] = (self.approve_as, query["code_challenge"][0], granted, query["redirect_uri"][0])
        location = query["redirect_uri"][0] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"][0]})
        return 302, {"Location": location}, {}

    def _issue(self, user: str, refresh: bool) -> dict:
        """Tokens of ``user``; a user who never consented (tests calling this directly) holds every scope."""
        self.user_scopes.setdefault(user, " ".join(sorted(set(TYPE_SCOPES.values()))))
        access = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[access] = (user, time.monotonic() + self.access_token_lifetime)
        body = {"access_token": access, "expires_in": self.access_token_lifetime, "token_type": "Bearer",
                "scope": self.user_scopes.get(user, "")}
        if refresh:
            token = "1//" + secrets.token_urlsafe(32)
            self.refresh_tokens[token] = user
            body["refresh_token"] = token
        return body

    def token(self, form: dict) -> tuple[int, dict, dict]:
        grant = form.get("grant_type", [""])[0]
        if grant == "authorization_code":
            entry = self.codes.pop(form["code"][0], None)
            verifier = form.get("code_verifier", [""])[0]
            if entry is None:
                return 400, {}, {"error": "invalid_grant", "error_description": "Bad Request"}
            user, challenge, scopes, redirect_uri = entry
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != challenge or form.get("redirect_uri", [""])[0] != redirect_uri:
                return 400, {}, {"error": "invalid_grant", "error_description": "Missing code verifier."}
            self.granted_scopes.append(scopes)
            self.user_scopes[user] = scopes
            self.revoked_users.discard(user)
            return 200, {}, self._issue(user, refresh=True)
        if grant == "refresh_token":
            user = self.refresh_tokens.get(form.get("refresh_token", [""])[0])
            if user is None or user in self.revoked_users:
                return 400, {}, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, {}, self._issue(user, refresh=self.rotate_refresh_tokens)
        if grant == JWT_BEARER:
            return self._service_account_token(form.get("assertion", [""])[0])
        return 400, {}, {"error": "unsupported_grant_type"}

    def _service_account_token(self, assertion: str) -> tuple[int, dict, dict]:
        """RFC 7523: an RS256 JWT signed with a known service account's key, asking for cloud-platform."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        refused = (400, {}, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        try:
            header, claims, signature = assertion.split(".")
            claims_json = json.loads(b64(claims))
            key = self.service_accounts[claims_json["iss"]]
            key.verify(b64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, KeyError, InvalidSignature):
            return refused
        if CLOUD_PLATFORM not in claims_json.get("scope", "").split() or claims_json.get("exp", 0) < time.time():
            return 400, {}, {"error": "invalid_scope", "error_description": "cloud-platform scope required"}
        access = "ya29.sa." + secrets.token_urlsafe(24)
        self.project_tokens[access] = time.monotonic() + self.access_token_lifetime
        return 200, {}, {"access_token": access, "expires_in": self.access_token_lifetime, "token_type": "Bearer"}

    # --- projects.subscribers.subscriptions (health.v4.json; MANUAL policy only, as subscriptions.create says)
    def _project_gate(self, headers, parent: str) -> tuple[int, dict, dict] | None:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.project_tokens.get(token, 0) < time.monotonic():
            if token in self.access_tokens:  # a participant's token: not the project's cloud-platform scope
                return error(403, "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
            return error(401, "Request had invalid authentication credentials.", "INVALID_AUTHENTICATOR")
        if parent not in self.subscribers:
            return error(404, f"Subscriber {parent} not found.")
        return None

    def _subscription_types(self, parent: str, user: str, data_types) -> tuple[int, dict, dict] | None:
        """``users/{health_user_id}/dataTypes/{data_type}`` of the subscription's own user, each one the
        subscriber has a MANUAL config for."""
        if not isinstance(data_types, list):
            return error(400, "dataTypes must be a list.")
        for name in data_types:
            match = re.fullmatch(r"(users/[^/]+)/dataTypes/([a-z-]+)", name) if isinstance(name, str) else None
            if match is None or match.group(1) != user:
                return error(400, f"Invalid data type {name!r}: expected {user}/dataTypes/<data type>.")
            if self.subscribable_types is not None and match.group(2) not in self.subscribable_types:
                return error(400, f"Invalid data type {name!r}: {match.group(2)} cannot be subscribed to.")
            policy = self.subscribers[parent].get(match.group(2))
            if policy != "MANUAL":
                return error(400, f"The subscriber has no MANUAL config for {match.group(2)} (policy {policy}).",
                             rpc_status="FAILED_PRECONDITION")
        return None

    def create_subscription(self, parent: str, query: dict, body: dict, headers) -> tuple[int, dict, dict]:
        refused = self._project_gate(headers, parent)
        if refused:
            return refused
        user = body.get("user")
        if not isinstance(user, str) or not re.fullmatch(r"users/[^/]+", user):
            return error(400, "user is required: users/{healthUserId}.")
        refused = self._subscription_types(parent, user, body.get("dataTypes", []))
        if refused:
            return refused
        if any(sub["user"] == user for name, sub in self.subscriptions.items() if name.startswith(parent + "/")):
            return error(409, f"A subscription for {user} already exists.")
        subscription_id = query.get("subscriptionId", [""])[0] or "s" + secrets.token_hex(8)
        if not RESOURCE_ID.match(subscription_id):
            return error(400, f"Invalid subscription id {subscription_id!r}.")
        name = f"{parent}/subscriptions/{subscription_id}"
        self.subscriptions[name] = {"name": name, "user": user, "dataTypes": list(body.get("dataTypes", []))}
        return 200, {}, dict(self.subscriptions[name])

    def list_subscriptions(self, parent: str, query: dict, headers) -> tuple[int, dict, dict]:
        refused = self._project_gate(headers, parent)
        if refused:
            return refused
        found = sorted((sub for name, sub in self.subscriptions.items() if name.startswith(parent + "/")),
                       key=lambda sub: sub["name"])
        text = query.get("filter", [""])[0]
        if text:
            match = USER_FILTER.match(text)
            if match is None:
                return error(400, f"Invalid filter {text!r}.")
            found = [sub for sub in found if sub["user"] == f"users/{match.group(1)}"]
        size = min(int(query.get("pageSize", ["50"])[0]), 1000, self.page_size)
        offset = int(base64.urlsafe_b64decode(query["pageToken"][0]).decode()) if "pageToken" in query else 0
        body = {"subscriptions": [dict(sub) for sub in found[offset:offset + size]]}
        if offset + size < len(found):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return 200, {}, body

    def patch_subscription(self, name: str, query: dict, body: dict, headers) -> tuple[int, dict, dict]:
        parent = name.rsplit("/subscriptions/", 1)[0]
        refused = self._project_gate(headers, parent)
        if refused:
            return refused
        if name not in self.subscriptions:
            return error(404, f"Subscription {name} not found.")
        if query.get("updateMask", [""])[0] != "dataTypes":
            return error(400, "updateMask: only dataTypes can be updated.")
        refused = self._subscription_types(parent, self.subscriptions[name]["user"], body.get("dataTypes", []))
        if refused:
            return refused
        self.subscriptions[name]["dataTypes"] = list(body.get("dataTypes", []))
        return 200, {}, dict(self.subscriptions[name])

    def delete_subscription(self, name: str, headers) -> tuple[int, dict, dict]:
        refused = self._project_gate(headers, name.rsplit("/subscriptions/", 1)[0])
        if refused:
            return refused
        if self.subscriptions.pop(name, None) is None:
            return error(404, f"Subscription {name} not found.")
        return 200, {}, {}

    def _gate(self, headers, data_type: str | None = None) -> tuple[str | None, tuple[int, dict, dict] | None]:
        """The knobs' stalls and failures, the bearer token, the account, then the data type's scope: (user, None)
        or (None, the error answer)."""
        if self.stall_next:
            time.sleep(self.stall_next.pop(0))
        if self.fail_next:
            status, retry_after = self.fail_next.pop(0)
            status_, extra, body = error(status, "fake failure", "RATE_LIMIT_EXCEEDED" if status == 429 else None)
            if retry_after is not None:
                extra = {"Retry-After": str(retry_after)}
            return None, (status_, extra, body)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        user, expires = self.access_tokens.get(token, (None, 0))
        if user is None or expires < time.monotonic() or user in self.revoked_users:
            return None, error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                    "login cookie or other valid authentication credential.", "INVALID_AUTHENTICATOR")
        if self.account_errors.get(user) == "not_linked":
            return None, error(400, "The account is not linked to Google Health.", "ACCOUNT_NOT_LINKED",
                               "FAILED_PRECONDITION")
        if self.account_errors.get(user) == "legacy":
            return None, error(403, "The caller does not have permission. Could not mint UberMint from GaiaMint.")
        if data_type in self.refuse_types:
            status = self.refuse_types[data_type]
            return None, error(status, f"fake refusal of {data_type}")
        if data_type is not None and TYPE_SCOPES.get(data_type) not in self.user_scopes.get(user, "").split():
            return None, error(403, "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        return user, None

    def daily_roll_up(self, data_type: str, body: dict, headers) -> tuple[int, dict, dict]:
        """``dataPoints:dailyRollUp`` of one civil day (the only request shape the connector sends)."""
        user, refused = self._gate(headers, data_type)
        if refused:
            return refused
        invalid = error(400, "Invalid range")
        if data_type not in ROLLUP_FIELDS:
            return error(400, f"Request contains an invalid argument. The data type ID {data_type} is not supported.")
        try:
            start, end = (dt.date(**body["range"][bound]["date"]) for bound in ("start", "end"))
        except (KeyError, TypeError):
            return invalid
        if body.get("windowSizeDays", 1) != 1 or end != start + dt.timedelta(days=1):
            return invalid
        family = body.get("dataSourceFamily", "")
        if family and family.removeprefix("users/me/dataSourceFamilies/") not in FAMILIES:
            return error(400, "Invalid data source family.", "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")
        values = [self.daily_rollups.get(user, {}).get((data_type, start))]
        if not family.endswith("/google-wearables"):  # all sources by default: a phone's steps count too
            values.append(self.phone_rollups.get(user, {}).get((data_type, start)))
        values = [v for v in values if v is not None]
        if not values:
            return 200, {}, {"rollupDataPoints": []}
        value = {name: (str(sum(int(v[name]) for v in values)) if isinstance(values[0][name], str)
                        else sum(v[name] for v in values)) for name in values[0]}  # int64 sums stay strings
        civil = [{"date": {"year": d.year, "month": d.month, "day": d.day}, "time": {}} for d in (start, end)]
        return 200, {}, {"rollupDataPoints": [
            {"civilStartTime": civil[0], "civilEndTime": civil[1], ROLLUP_FIELDS[data_type]: json.loads(json.dumps(value))}]}

    def identity(self, headers) -> tuple[int, dict, dict]:
        user, refused = self._gate(headers)
        if refused:
            return refused
        body = {"name": "users/me/identity", "healthUserId": self.health_user_id(user)}
        if user in self.legacy_user_ids:
            body["legacyUserId"] = self.legacy_user_ids[user]
        return 200, {}, body

    @staticmethod
    def health_user_id(user: str) -> str:
        return str(int(hashlib.sha256(user.encode()).hexdigest()[:12], 16))  # numeric, as Google's

    def list_paired_devices(self, headers) -> tuple[int, dict, dict]:
        user, refused = self._gate(headers, "pairedDevices")
        if refused:
            return refused
        return 200, {}, {"pairedDevices": json.loads(json.dumps(self.paired_devices.get(user, [])))}

    def data_points(self, data_type: str, query: dict, headers) -> tuple[int, dict, dict]:
        user, refused = self._gate(headers, data_type)
        if refused:
            return refused
        family = query.get("dataSourceFamily", [""])[0]
        if family:
            if data_type == "sleep":
                return error(400, "Filtering by data source family is not supported for sleep.")
            if family.removeprefix("users/me/dataSourceFamilies/") not in FAMILIES:
                return error(400, "Invalid data source family in filter.", "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")
        wearables_only = family.endswith("/google-wearables")
        if data_type == "activity-level":
            return self._activity_level(user, query)
        if data_type == "daily-respiratory-rate":
            return self._daily_respiratory_rate(user, query)
        if data_type == "sleep":
            return self._sleep(user, query)
        if data_type == "steps":
            return self._steps(user, query)
        if data_type == "oxygen-saturation":
            return self._oxygen_saturation(user, query)
        if data_type == "active-zone-minutes":
            return self._active_zone_minutes(user, query)
        if data_type != "heart-rate":
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                       "message": f"Invalid data type ID referenced: {data_type}"}}
        match = FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        start, end = _ts(match.group(1)), _ts(match.group(2))
        # "Data points in the response will be ordered by the interval start time in descending order."
        recorded = {t: (v, "FITBIT") for t, v in self.samples.get(user, {}).items()}
        if not wearables_only:
            recorded.update({t: (v, "HEALTH_CONNECT") for t, v in self.phone_samples.get(user, {}).items()})
        points = sorted(((t, v) for t, v in recorded.items() if start <= t < end), reverse=True)
        size = min(int(query.get("pageSize", ["1440"])[0]), self.page_size)
        offset = int(base64.urlsafe_b64decode(query["pageToken"][0]).decode()) if "pageToken" in query else 0
        page = points[offset:offset + size]
        if self.repeat_across_pages and offset:
            page = [points[offset - 1], *page]
        next_offset = offset + size
        body = {"dataPoints": [self._point(user, t, v, self.sample_offsets.get(user, "0s")) for t, v in page],
                "nextPageToken": base64.urlsafe_b64encode(str(next_offset).encode()).decode()
                if next_offset < len(points) else ""}
        if self.malformed and body["dataPoints"]:
            body["dataPoints"][0]["heartRate"]["beatsPerMinute"] = "fast"
        return 200, {}, body

    def _paged(self, points: list, query: dict) -> tuple[int, dict, dict]:
        """One page of ``points`` (already in the reference's descending order) with the list's page tokens."""
        size = min(int(query.get("pageSize", ["1440"])[0]), self.page_size)
        offset = int(base64.urlsafe_b64decode(query["pageToken"][0]).decode()) if "pageToken" in query else 0
        page = [json.loads(json.dumps(p)) for p in points[offset:offset + size]]
        if self.repeat_across_pages and offset:
            page = [json.loads(json.dumps(points[offset - 1])), *page]
        more = offset + size < len(points)
        return 200, {}, {"dataPoints": page,
                         "nextPageToken": base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else ""}

    def _oxygen_saturation(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = SPO2_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        start, end = _ts(match.group(1)), _ts(match.group(2))
        points = [{"dataSource": {"platform": "FITBIT"},
                   "oxygenSaturation": {"percentage": value, "sampleTime": {"physicalTime": _z(t), "utcOffset": "0s"}}}
                  for t, value in sorted(self.oxygen_saturation.get(user, []), reverse=True) if start <= t < end]
        status, headers, body = self._paged(points, query)
        if (user, "oxygen-saturation") in self.malformed_points and body["dataPoints"]:
            body["dataPoints"][0]["oxygenSaturation"]["percentage"] = "ninety-five"
        return status, headers, body

    def _active_zone_minutes(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = AZM_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        start, end = _ts(match.group(1)), _ts(match.group(2))
        points = [{"dataSource": {"platform": "FITBIT"},
                   "activeZoneMinutes": {"interval": {"startTime": _z(t), "startUtcOffset": "0s",
                                                      "endTime": _z(t + dt.timedelta(minutes=1)), "endUtcOffset": "0s"},
                                         "heartRateZone": zone, "activeZoneMinutes": str(credit)}}  # int64: a string
                  for t, zone, credit in sorted(self.active_zone_minutes.get(user, []), reverse=True)
                  if start <= t < end]
        status, headers, body = self._paged(points, query)
        if (user, "active-zone-minutes") in self.malformed_points and body["dataPoints"]:
            body["dataPoints"][0]["activeZoneMinutes"]["heartRateZone"] = "WARP"
        return status, headers, body

    def _steps(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = STEPS_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        start, end = _ts(match.group(1)), _ts(match.group(2))
        points = []
        for first, last, count in sorted(self.steps.get(user, []), reverse=True):
            if start <= first < end:
                steps = {"interval": {"startTime": _z(first), "startUtcOffset": "0s", "endTime": _z(last),
                                      "endUtcOffset": "0s"}}
                if count is not None:
                    steps["count"] = str(count)
                points.append({"dataSource": {"platform": "FITBIT"}, "steps": steps})
        return 200, {}, {"dataPoints": points, "nextPageToken": ""}

    def _sleep(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = SLEEP_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        start, end = _ts(match.group(1)), _ts(match.group(2))
        sessions = sorted(((pid, s) for pid, s in self.sleeps.get(user, {}).items()
                           if start <= _ts(s["interval"]["endTime"]) < end),
                          key=lambda item: item[1]["interval"]["startTime"], reverse=True)
        size = min(int(query.get("pageSize", ["25"])[0]), 25, self.page_size)
        offset = int(base64.urlsafe_b64decode(query["pageToken"][0]).decode()) if "pageToken" in query else 0
        page = sessions[offset:offset + size]
        points = [{"name": f"users/{user}/dataTypes/sleep/dataPoints/{pid}", "dataSource": {"platform": "FITBIT"},
                   "sleep": session} for pid, session in page]
        more = offset + size < len(sessions)
        return 200, {}, {"dataPoints": points,
                         "nextPageToken": base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else ""}

    def _daily_respiratory_rate(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = DAILY_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid filter"}}
        first, end = dt.date.fromisoformat(match.group(1)), dt.date.fromisoformat(match.group(2))
        points = [
            {"dataSource": {"platform": "FITBIT"},
             "dailyRespiratoryRate": {"date": {"year": d.year, "month": d.month, "day": d.day}, "breathsPerMinute": v}}
            for d, v in sorted(self.respiratory_rates.get(user, {}).items(), reverse=True) if first <= d < end
        ]
        return 200, {}, {"dataPoints": points, "nextPageToken": ""}

    def _activity_level(self, user: str, query: dict) -> tuple[int, dict, dict]:
        match = ACTIVITY_LEVEL_FILTER.match(query.get("filter", [""])[0])
        if not match:
            return error(400, "Invalid filter.", "INVALID_DATA_POINT_FILTER")
        start, end = _ts(match.group(1)), _ts(match.group(2))
        points = [{"dataSource": {"platform": "FITBIT", "recordingMethod": "DERIVED"},
                   "activityLevel": {"activityLevelType": level,
                                     "interval": {"startTime": _z(first), "startUtcOffset": "0s", "endTime": _z(last),
                                                  "endUtcOffset": "0s"}}}
                  for first, last, level in sorted(self.activity_levels.get(user, []), reverse=True)
                  if start <= first < end]
        return self._paged(points, query)

    @staticmethod
    def _point(user: str, t: dt.datetime, value: tuple, utc_offset: str) -> dict:
        bpm, platform = value
        source = {"recordingMethod": "PASSIVELY_MEASURED", "platform": platform}
        if platform == "FITBIT":
            source["device"] = {"manufacturer": "Google", "displayName": "Pixel Watch 3"}
        return {
            "name": f"users/{FakeGoogleHealth.health_user_id(user)}/dataTypes/heart-rate/dataPoints/{int(t.timestamp())}",
            "dataSource": source,
            "heartRate": {"beatsPerMinute": str(bpm), "sampleTime": {
                "physicalTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "utcOffset": utc_offset}},
        }


SUBSCRIPTIONS_PATH = re.compile(r"/v4/(projects/[^/]+/subscribers/[^/]+)/subscriptions")
SUBSCRIPTION_PATH = re.compile(r"/v4/(projects/[^/]+/subscribers/[^/]+/subscriptions/[^/]+)")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGoogleHealth

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def _send(self, status: int, headers: dict, body: dict) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/v4/"):
            self.fake.responses.append((self.command, path, status, body))
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        self.fake.requests.append(("GET", url.path, query))
        if url.path == "/o/oauth2/v2/auth":
            self._send(*self.fake.authorize(query))
            return
        match = re.fullmatch(r"/v4/users/me/dataTypes/([a-z-]+)/dataPoints", url.path)
        if match:
            self._send(*self.fake.data_points(match.group(1), query, self.headers))
            return
        if url.path == "/v4/users/me/identity":
            self._send(*self.fake.identity(self.headers))
            return
        if url.path == "/v4/users/me/pairedDevices":
            self._send(*self.fake.list_paired_devices(self.headers))
            return
        match = SUBSCRIPTIONS_PATH.fullmatch(url.path)
        if match:
            with self.fake.lock:
                self._send(*self.fake.list_subscriptions(match.group(1), query, self.headers))
            return
        self._send(*error(404, url.path))

    def _json_body(self) -> dict:
        length = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(length).decode() or "{}")

    def do_PATCH(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query, body = urllib.parse.parse_qs(url.query), self._json_body()
        self.fake.requests.append(("PATCH", url.path, {**query, "body": body}))
        match = SUBSCRIPTION_PATH.fullmatch(url.path)
        if not match:
            self._send(*error(404, url.path))
            return
        with self.fake.lock:
            self._send(*self.fake.patch_subscription(match.group(1), query, body, self.headers))

    def do_DELETE(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.fake.requests.append(("DELETE", url.path, {}))
        match = SUBSCRIPTION_PATH.fullmatch(url.path)
        if not match:
            self._send(*error(404, url.path))
            return
        with self.fake.lock:
            self._send(*self.fake.delete_subscription(match.group(1), self.headers))

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode()
        match = SUBSCRIPTIONS_PATH.fullmatch(url.path)
        if match:
            query, body = urllib.parse.parse_qs(url.query), json.loads(raw or "{}")
            self.fake.requests.append(("POST", url.path, {**query, "body": body}))
            with self.fake.lock:
                self._send(*self.fake.create_subscription(match.group(1), query, body, self.headers))
            return
        match = re.fullmatch(r"/v4/users/me/dataTypes/([a-z-]+)/dataPoints:dailyRollUp", url.path)
        if match:
            body = json.loads(raw or "{}")
            self.fake.requests.append(("POST", url.path, body))
            self._send(*self.fake.daily_roll_up(match.group(1), body, self.headers))
            return
        form = urllib.parse.parse_qs(raw)
        self.fake.requests.append(("POST", url.path, {k: v for k, v in form.items() if k == "grant_type"}))
        if url.path == "/token":
            with self.fake.lock:
                self._send(*self.fake.token(form))
            return
        self._send(404, {}, {"error": "not_found"})


class FakeServer:
    """The fake on 127.0.0.1 and a free port, served from a thread."""

    def __init__(self, fake: FakeGoogleHealth):
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
