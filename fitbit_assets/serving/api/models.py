"""The API's request and response bodies, and the error answers every operation documents.

Names end in what they are on the wire (``ParticipantSummary``, ``SeriesResponse``) so they do not clash with
the domain's types (``fitbit_assets.domain.roster.Participant``).
"""

import datetime as dt
from typing import Any, Literal, Optional, Union

from fastapi import Response
from pydantic import BaseModel, Field


def json_response(body: BaseModel) -> Response:
    """``body`` serialized once, by pydantic-core. A route that returns the model instead has FastAPI dump it to
    Python objects, validate those against the response model again and serialize them: for the cohort's 100 rows
    that took more CPU than computing their statuses. Such a route names its ``response_model`` for the OpenAPI
    description."""
    return Response(body.model_dump_json(), media_type="application/json")


class ParticipantSummary(BaseModel):
    """A roster entry with the first and last local date of its loaded data."""

    participant_id: str
    timezone: str
    enrolled_on: dt.date
    source: str
    site: Optional[str] = None
    first_local_date: Optional[dt.date] = None
    last_local_date: Optional[dt.date] = None


class SeriesResponse(BaseModel):
    """Columnar series: ``t`` (Unix seconds, UTC) and per point the value (sample or bucket mean), min, max,
    sample count, and with ``imputed=true`` the imputed flags."""

    participant_id: str
    metric: str
    unit: str
    resolution: Literal["raw", "1m", "1h", "1d"]
    requested_resolution: str
    start: dt.datetime
    end: dt.datetime
    max_points: int
    points: int
    t: list[float]
    value: list[Optional[float]]
    min: list[Optional[float]]
    max: list[Optional[float]]
    samples: list[Optional[int]]
    imputed: Optional[list[bool]] = None
    imputed_minutes: Optional[list[int]] = None


class AdherenceDay(BaseModel):
    participant_id: str
    local_date: dt.date
    timezone: str
    day_minutes: int
    wear_minutes: int
    adherence_pct: float
    longest_gap_minutes: int
    gap_count: int
    valid_day: bool
    imputed_minutes: int
    samples: int
    valid_day_minutes: int
    computed_at: dt.datetime


class AdherenceResponse(BaseModel):
    start: dt.date
    end: dt.date
    days: list[AdherenceDay]


class SleepNight(BaseModel):
    """One night (``local_date`` = dateOfSleep, the date the sleep ends on): summary totals over the sleep logs."""

    local_date: dt.date
    minutes_asleep: int = Field(description="Nightly sleep minutes (totalMinutesAsleep); 0: no sleep recorded")
    time_in_bed: int
    sleep_records: int
    minutes_awake: Optional[int] = Field(default=None, description="Null when only daily totals were exported")
    main_sleep_start: Optional[dt.datetime] = None
    main_sleep_end: Optional[dt.datetime] = None
    main_efficiency: Optional[int] = None


class SleepResponse(BaseModel):
    participant_id: str
    start: dt.date
    end: dt.date
    nights: list[SleepNight]


class CohortRow(BaseModel):
    """One participant as a coordinator acts on it: ``status`` (rules: docs/adherence.md "Coordinator status"), since which
    of the participant's local days, the evidence and the suggested action; times are UTC, the dashboard shows them
    in ``timezone``."""

    participant_id: str
    timezone: str
    enrolled_on: dt.date
    source: str
    status: Literal["reconsent_needed", "not_syncing", "not_wearing", "charging_pattern", "partial_wear", "ok"]
    status_words: str = Field(description="The status as the dashboard, CLI and alerts word it")
    since: Optional[dt.date] = Field(default=None, description="The participant's local day the status started on")
    evidence: str
    action: str
    last_data: Optional[dt.datetime] = None
    last_sync: Optional[dt.datetime] = Field(
        default=None, description="The latest device sync: sync records or the device's own (users.pairedDevices)")
    battery_pct: Optional[int] = Field(default=None, description="The device's battery level (users.pairedDevices)")
    battery_status: Optional[str] = Field(default=None, description="High / Medium / Low / Empty, where reported")
    trailing_7d_adherence_pct: Optional[float] = None
    valid_days_7d: Optional[int] = None
    days_7d: Optional[int] = None
    consecutive_invalid_days: Optional[int] = None
    last_local_date: Optional[dt.date] = None
    last_valid_date: Optional[dt.date] = None
    consent_state: Optional[Literal["active", "reconsent_needed", "account_not_linked", "legacy_account"]] = Field(
        default=None, description="Google Health API consent (source google_health only)"
    )
    consent_reason: Optional[str] = None
    consent_changed_at: Optional[dt.datetime] = None


class CohortResponse(BaseModel):
    as_of: dt.datetime
    participants: list[CohortRow]


class ContactTemplate(BaseModel):
    key: str
    title: str
    subject: str
    body: str


class ContactRequest(BaseModel):
    template: str = Field(description="not_wearing, not_syncing or charge_device (GET contact-templates)")
    message: Optional[str] = Field(default=None, max_length=2000, description="Own wording of the body")
    override: bool = Field(default=False, description="Send although the participant was contacted today")


class ContactPreview(BaseModel):
    participant_id: str
    to: Optional[str] = Field(description="The address, shortened (j***@example.org); null: none on file")
    do_not_contact: bool
    contacted_today: Optional[str] = Field(description="When and by whom, if the participant was contacted today")
    subject: str
    text: str


class ContactResponse(BaseModel):
    participant_id: str
    to: str
    subject: str
    delivered: Literal["email"]


class SignInRequest(BaseModel):
    user_name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionResponse(BaseModel):
    user_name: str
    role: str
    sites: list[str]
    sign_in_required: bool
    csrf_token: Optional[str] = Field(default=None, description="Send it as X-CSRF-Token on POST/DELETE")


class UserRow(BaseModel):
    user_name: str
    role: str
    sites: list[str]
    created_at: dt.datetime
    revoked_at: Optional[dt.datetime] = None
    has_password: bool
    tokens: int


class Problem(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    """422: a message from the API's own range checks, or FastAPI's list of parameter validation errors."""

    detail: Union[str, list[dict[str, Any]]]


ERRORS = {
    401: {"model": Problem, "description": "not signed in: no session cookie or API token, or a revoked one"},
    403: {"model": Problem, "description": "the caller's role may not do this, or a session without its CSRF header"},
    422: {"model": ValidationProblem, "description": "invalid parameters"},
    503: {"model": Problem, "description": "database unreachable, or every connection busy for the wait"},
}
BAD_BODY = {400: {"model": Problem, "description": "the body is not valid JSON"}}
NOT_FOUND = {404: {"model": Problem, "description": "unknown participant"}}
BAD_RANGE = {422: {"model": ValidationProblem, "description": "bad range"}}
