"""Reading data points: pagination to the end, the per-user quota, 429/5xx/timeouts, shape checks.

Reference: ``GET /v4/users/me/dataTypes/{dataType}/dataPoints`` (``filter`` in AIP-160 syntax, ``pageSize``,
``pageToken``) answers ``{"dataPoints": [...], "nextPageToken": "..."}``, the token empty on the last page.
``POST .../dataPoints:dailyRollUp`` (civil-day range in the body) answers ``{"rollupDataPoints": [...]}``. Errors
are Google's JSON error body ``{"error": {"code", "message", "status"}}``; 429 means the rate limit
(developers.google.com/health/rate-limits: 300 requests per user and minute), 503/504 are transient.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from fitbit_assets.google_health.oauth import ConsentLostError

PAGE_SIZE = 10000  # the documented maximum (sleep: 25): a day of 1-5 s heart rate is 2-9 pages
PER_USER_PER_MINUTE = 300
RETRYABLE = {500, 502, 503, 504}


class ApiError(RuntimeError):
    """The request failed for good (retries used up, or an error that retrying cannot fix)."""

    def __init__(self, request: str, reason: str):
        super().__init__(f"{request}: {reason}")
        self.request, self.reason = request, reason


class ResponseShapeError(ApiError):
    """The response does not have the documented shape; ``reason`` names the offending field."""


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


def _error_text(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if isinstance(error, dict) and error:
        return f"HTTP {response.status_code} {error.get('status', '')}: {error.get('message', '')}".strip()
    return f"HTTP {response.status_code}"


@dataclass
class HealthApiClient:
    """One participant's reads. ``access_token(force_refresh)`` comes from the token store."""

    api_url: str
    access_token: Callable[[bool], str]
    quota: UserQuota
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

        def fetch(token: str, number: int) -> tuple[str, dict]:
            params = {"filter": filter_expression, "pageSize": str(page_size)}
            if token:
                params["pageToken"] = token
            request = f"GET {path} (filter {filter_expression!r}, page {number})"
            return request, self._send("GET", path, request, params=params)

        return self._follow_pages(fetch, "dataPoints")

    def daily_rollup_pages(self, data_type: str, local_date: dt.date) -> list[dict]:
        """``dataPoints:dailyRollUp`` of one civil day (the user's own day boundaries), every page in order.

        Reference: ``POST /v4/users/me/dataTypes/{dataType}/dataPoints:dailyRollUp`` with ``{"range": {"start",
        "end"}, "windowSizeDays", "pageSize", "pageToken"}`` (CivilDateTime bounds, closed-open) answers
        ``{"rollupDataPoints": [{"civilStartTime", "civilEndTime", "<dataType value>": {...}}]}``; a
        ``nextPageToken``, should one come, is followed like the list's.
        """
        path = f"/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"
        following = local_date + dt.timedelta(days=1)
        civil = [{"date": {"year": d.year, "month": d.month, "day": d.day}, "time": {}} for d in (local_date, following)]

        def fetch(token: str, number: int) -> tuple[str, dict]:
            body = {"range": {"start": civil[0], "end": civil[1]}, "windowSizeDays": 1}
            if token:
                body["pageToken"] = token
            request = f"POST {path} (day {local_date}, page {number})"
            return request, self._send("POST", path, request, body=body)

        return self._follow_pages(fetch, "rollupDataPoints")

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
                    body = response.json()
                except ValueError:
                    raise ResponseShapeError(request, "body is not JSON") from None
                if not isinstance(body, dict):
                    raise ResponseShapeError(request, "body: expected a JSON object")
                return body
            failure = _error_text(response)
            if response.status_code == 401 and not refreshed:
                # Expired early or revoked: one refresh; invalid_grant there becomes ConsentLostError.
                self.access_token(True)
                refreshed = True
                continue
            if response.status_code in (401, 403):
                raise ConsentLostError(f"{request}: {failure}")
            if response.status_code == 429:
                hint = retry_after_seconds(response.headers.get("Retry-After"))
                self.quota.hold(hint if hint is not None else self._delay(attempt))
                continue
            if response.status_code in RETRYABLE:
                self._backoff(attempt)
                continue
            raise ApiError(request, failure)
        raise ApiError(request, f"gave up after {self.max_attempts} attempts, last: {failure}")

    def _delay(self, attempt: int) -> float:
        # Exponential with jitter, as the rate-limit page asks, so retries of many users do not line up.
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds) * (0.5 + random.random() / 2)

    def _backoff(self, attempt: int) -> None:
        if attempt < self.max_attempts:
            self.sleep(self._delay(attempt))
