"""Reading data points: pagination to the end, the per-user and project budgets, 429/5xx/timeouts, error reasons.

Reference: ``GET /v4/users/me/dataTypes/{dataType}/dataPoints`` (``filter`` in AIP-160 syntax, ``pageSize``,
``pageToken``, ``dataSourceFamily``) answers ``{"dataPoints": [...], "nextPageToken": "..."}``, the token empty on
the last page. ``POST .../dataPoints:dailyRollUp`` (civil-day range in the body) answers ``{"rollupDataPoints":
[...]}``. Errors are Google's JSON error body ``{"error": {"code", "message", "status", "details": [{"@type":
".../google.rpc.ErrorInfo", "reason"}]}}`` (developers.google.com/health/reference/rest/v4/errors); the ``reason``
decides what happens (``ApiError`` subclasses below). 429 RESOURCE_EXHAUSTED, 503 and 504 are retried with
exponential backoff and jitter (developers.google.com/health/rate-limits).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from fitbit_assets.google_health import PAIRED_DEVICES
from fitbit_assets.google_health.oauth import ConsentLostError
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query

PAGE_SIZE = 10000  # the documented maximum (sleep: 25): a day of 1-5 s heart rate is 2-9 pages
# Unverified apps: 2.5 QPS per user and 250 QPS per project (rate-limits page); a verified app may raise both.
PER_USER_PER_MINUTE = 150
PROJECT_PER_MINUTE = 15000
RETRYABLE = {500, 502, 503, 504}
WEARABLES = "users/me/dataSourceFamilies/google-wearables"  # Google and Fitbit trackers, no manual or phone data
# The list endpoint refuses ``dataSourceFamily`` for these (INVALID_ARGUMENT, parameter description).
NO_SOURCE_FAMILY = {"sleep", "food", "food-measurement-unit"}
LEGACY_ACCOUNT_TEXT = "Could not mint UberMint from GaiaMint"  # troubleshooting page, 403


class ApiError(RuntimeError):
    """The request failed for good (retries used up, or an error that retrying cannot fix).

    ``status`` is the HTTP status and ``error_reason`` the ErrorInfo reason of Google's error body, when sent.
    """

    def __init__(self, request: str, reason: str, status: int | None = None, error_reason: str | None = None):
        super().__init__(f"{request}: {reason}")
        self.request, self.reason, self.status, self.error_reason = request, reason, status, error_reason


class ResponseShapeError(ApiError):
    """The response does not have the documented shape; ``reason`` names the offending field."""


class ScopeWithheldError(ApiError):
    """403 PERMISSION_DENIED for one data type: its scope was not granted (or withdrawn); the other types work.

    ``data_type`` is the refused request's data type (``paired-devices`` for ``users.pairedDevices``).
    """

    def __init__(self, request: str, reason: str, status: int | None = None, error_reason: str | None = None,
                 data_type: str | None = None):
        super().__init__(request, reason, status, error_reason)
        self.data_type = data_type


def data_type_of(path: str) -> str | None:
    """The data type a request path reads (``paired-devices`` for ``users.pairedDevices``), or None."""
    if path.startswith("/v4/users/me/pairedDevices"):
        return PAIRED_DEVICES
    match = re.match(r"/v4/users/me/dataTypes/([a-z-]+)/", path)
    return match.group(1) if match else None


class AccountNotLinkedError(ApiError):
    """ACCOUNT_NOT_LINKED: consented, but the Google Account has no Google Health profile yet (or the legacy Fitbit
    account is not migrated). Nothing can be read until the participant sets it up in the Fitbit app."""


class LegacyAccountError(ApiError):
    """403 "Could not mint UberMint from GaiaMint": a legacy Fitbit account consented instead of a Google Account."""


@dataclass(frozen=True)
class ErrorBody:
    status: int
    text: str  # "HTTP 403 PERMISSION_DENIED (reason X): message", for logs and the coordinator
    error_reason: str | None
    whole: str  # every text of the body, to find the legacy-account message wherever the server put it


def parse_error(response: requests.Response) -> ErrorBody:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict) or not error:
        return ErrorBody(response.status_code, f"HTTP {response.status_code}", None, response.text or "")
    details = error.get("details") if isinstance(error.get("details"), list) else []
    reasons = [d.get("reason") for d in details if isinstance(d, dict) and isinstance(d.get("reason"), str)]
    error_reason = reasons[0] if reasons else None
    shown = f" (reason {error_reason})" if error_reason else ""
    text = f"HTTP {response.status_code} {error.get('status', '')}{shown}: {error.get('message', '')}"
    return ErrorBody(response.status_code, text.strip(), error_reason, response.text or "")


@dataclass
class UserQuota:
    """The per-user request budget, shared by every request of one participant in a run (all days, all types).

    Keeps at most ``per_minute`` requests in any 60 s, and after a 429 holds every request of the user until the
    server's retry hint has passed.
    """

    per_minute: int = PER_USER_PER_MINUTE
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _sent: deque = field(default_factory=deque)
    _blocked_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                while self._sent and now - self._sent[0] >= 60:
                    self._sent.popleft()
                wait = max(self._blocked_until - now, 0.0)
                if len(self._sent) >= self.per_minute:
                    wait = max(wait, 60 - (now - self._sent[0]))
                if wait <= 0:
                    self._sent.append(now)
                    return
                self.sleep(wait)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + seconds)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - dt.datetime.now(dt.timezone.utc)).total_seconds(), 0.0)


class ProjectBudget:
    """A request budget shared by every run and process that pulls (one token bucket row in the warehouse,
    ``google_health_request_budget``): ``name`` "project" is the project-wide one; ``user:<participant>`` a
    participant's, so two runs pulling one participant at once (a push-launched run next to the daily one) keep to
    the per-user quota between them.

    Each request takes a token in one atomic UPDATE (the row lock serialises concurrent runs); the bucket refills at
    ``per_minute / 60`` a second up to one minute's worth. A taker that drives the bucket below zero owes the
    difference and sleeps it off, so the processes together never exceed the budget by more than a minute's burst.
    """

    def __init__(self, connection, per_minute: int = PROJECT_PER_MINUTE, sleep: Callable[[float], None] = time.sleep,
                 name: str = "project"):
        self._conn, self._query = connection, sql_query("google_health_budget_take")
        self.per_minute, self.sleep, self.name = per_minute, sleep, name

    def acquire(self) -> float:
        """Takes one request's token; returns the seconds slept for it (0 while the bucket has tokens)."""
        with transaction(self._conn) as cur:
            cur.execute(self._query, {"name": self.name, "capacity": float(self.per_minute),
                                      "per_second": self.per_minute / 60.0})
            (tokens,) = cur.fetchone()
        wait = -tokens / (self.per_minute / 60.0) if tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)
        return wait


@dataclass
class HealthApiClient:
    """One participant's reads. ``access_token(force_refresh)`` comes from the token store.

    ``data_source_family`` (default the wearables) is sent with every list request that supports it and with every
    ``dailyRollUp`` (its request body has the field), so phone, Health Connect and manually entered data do not mix
    with the device's; None reads every source.
    """

    api_url: str
    access_token: Callable[[bool], str]
    quota: UserQuota
    project_budget: ProjectBudget | None = None
    user_budget: ProjectBudget | None = None  # the participant's bucket, shared with other runs (``quota``: this run's)
    data_source_family: str | None = WEARABLES
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_sent: int = 0

    def list_pages(self, data_type: str, filter_expression: str, page_size: int = PAGE_SIZE) -> list[dict]:
        """Every page of a list request, in order (the raw responses, for the landing folder)."""
        path = f"/v4/users/me/dataTypes/{data_type}/dataPoints"
        params = {"filter": filter_expression, "pageSize": str(page_size)}
        if self.data_source_family and data_type not in NO_SOURCE_FAMILY:
            params["dataSourceFamily"] = self.data_source_family

        def fetch(token: str, number: int) -> tuple[str, dict]:
            request = f"GET {path} (filter {filter_expression!r}, page {number})"
            page_params = {**params, "pageToken": token} if token else params
            return request, self._send("GET", path, request, params=page_params)

        return self._follow_pages(fetch, "dataPoints")

    def daily_rollup_pages(self, data_type: str, local_date: dt.date) -> list[dict]:
        """``dataPoints:dailyRollUp`` of one civil day (the user's own day boundaries), every page in order.

        Reference: ``POST /v4/users/me/dataTypes/{dataType}/dataPoints:dailyRollUp`` with ``{"range": {"start",
        "end"}, "windowSizeDays", "dataSourceFamily", "pageSize", "pageToken"}`` (CivilDateTime bounds, closed-open)
        answers
        ``{"rollupDataPoints": [{"civilStartTime", "civilEndTime", "<dataType value>": {...}}]}``; a
        ``nextPageToken``, should one come, is followed like the list's.
        """
        path = f"/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"
        following = local_date + dt.timedelta(days=1)
        civil = [{"date": {"year": d.year, "month": d.month, "day": d.day}, "time": {}} for d in (local_date, following)]

        def fetch(token: str, number: int) -> tuple[str, dict]:
            body = {"range": {"start": civil[0], "end": civil[1]}, "windowSizeDays": 1}
            if self.data_source_family:  # DailyRollUpDataPointsRequest.dataSourceFamily: the same sources as lists
                body["dataSourceFamily"] = self.data_source_family
            if token:
                body["pageToken"] = token
            request = f"POST {path} (day {local_date}, page {number})"
            return request, self._send("POST", path, request, body=body)

        return self._follow_pages(fetch, "rollupDataPoints")

    def identity(self) -> dict:
        """``users.getIdentity``: ``{"name", "healthUserId", "legacyUserId"}`` of the consenting account."""
        path = "/v4/users/me/identity"
        return self._send("GET", path, f"GET {path}")

    def paired_devices(self) -> list[dict]:
        """``users.pairedDevices.list``, every page (``settings.readonly`` scope)."""
        path = "/v4/users/me/pairedDevices"

        def fetch(token: str, number: int) -> tuple[str, dict]:
            request = f"GET {path} (page {number})"
            return request, self._send("GET", path, request, params={"pageToken": token} if token else None)

        return self._follow_pages(fetch, "pairedDevices")

    @staticmethod
    def _follow_pages(fetch: Callable[[str, int], tuple[str, dict]], items: str) -> list[dict]:
        pages: list[dict] = []
        seen_tokens: set[str] = set()
        token = ""
        while True:
            request, page = fetch(token, len(pages) + 1)
            if not isinstance(page.get(items, []), list):
                raise ResponseShapeError(request, f"field {items}: expected a list")
            token = page.get("nextPageToken") or ""
            if not isinstance(token, str):
                raise ResponseShapeError(request, "field nextPageToken: expected a string")
            pages.append(page)
            if not token:
                return pages
            if token in seen_tokens:  # a server bug would otherwise loop forever
                raise ResponseShapeError(request, "field nextPageToken: repeats an earlier page's token")
            seen_tokens.add(token)

    def _send(self, method: str, path: str, request: str, params: dict | None = None, body: dict | None = None) -> dict:
        refreshed = False
        for attempt in range(1, self.max_attempts + 1):
            self.quota.acquire()
            for budget in (self.user_budget, self.project_budget):
                if budget is not None:
                    budget.acquire()
            self.requests_sent += 1
            headers = {"Authorization": f"Bearer {self.access_token(False)}"}
            try:
                response = self.session.request(method, self.api_url + path, params=params, json=body, headers=headers,
                                                timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                failure = f"{type(exc).__name__} after {self.timeout:g} s"
                self._backoff(attempt)
                continue
            if response.status_code == 200:
                try:
                    answer = response.json()
                except ValueError:
                    raise ResponseShapeError(request, "body is not JSON") from None
                if not isinstance(answer, dict):
                    raise ResponseShapeError(request, "body: expected a JSON object")
                return answer
            error = parse_error(response)
            failure = error.text
            if error.error_reason == "ACCOUNT_NOT_LINKED":
                raise AccountNotLinkedError(request, failure, error.status, error.error_reason)
            if response.status_code == 401 and not refreshed:
                # INVALID_AUTHENTICATOR (expired early, or revoked): one refresh; invalid_grant there, or a second
                # 401, means consent is gone.
                self.access_token(True)
                refreshed = True
                continue
            if response.status_code == 401:
                raise ConsentLostError(f"{request}: {failure}")
            if response.status_code == 403 and LEGACY_ACCOUNT_TEXT in error.whole:
                raise LegacyAccountError(request, failure, error.status, error.error_reason)
            if response.status_code == 403:
                raise ScopeWithheldError(request, failure, error.status, error.error_reason, data_type_of(path))
            if response.status_code == 429:
                # The server's hint when it sends one, never less than the jittered exponential delay.
                hint = retry_after_seconds(response.headers.get("Retry-After")) or 0.0
                self.quota.hold(max(hint, self._delay(attempt)))
                continue
            if response.status_code in RETRYABLE:
                self._backoff(attempt)
                continue
            raise ApiError(request, failure, error.status, error.error_reason)
        raise ApiError(request, f"gave up after {self.max_attempts} attempts, last: {failure}")

    def _delay(self, attempt: int) -> float:
        # Exponential with jitter, as the rate-limit page asks, so retries of many users do not line up.
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds) * (0.5 + random.random() / 2)

    def _backoff(self, attempt: int) -> None:
        if attempt < self.max_attempts:
            self.sleep(self._delay(attempt))
