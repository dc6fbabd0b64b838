"""HTTP API and coordinator dashboard over the read-only query layer (``fitbit_assets.serving.query``).

``create_app()`` builds the FastAPI app: JSON endpoints under ``/api`` (OpenAPI docs at ``/docs``) and the
dashboard (plain HTML/JS + vendored uPlot) at ``/``. ``fitbit-assets serve`` / ``make serve`` runs it.

Environment (``fitbit_assets.settings``, read by ``ApiConfig.from_env``):

==========================  ==============================================================================
``FITBIT_API_DSN``          database the API reads (default: the warehouse DSN / the embedded PostgreSQL)
``FITBIT_API_ROLE``         role the API switches to with SET ROLE (default ``fitbit_api_reader``; none = no role)
``FITBIT_API_TOKEN``        when set, every ``/api`` call needs ``Authorization: Bearer <token>``
``FITBIT_API_MAX_POINTS``   default and upper limit of points per series response (default 2000)
``FITBIT_API_MAX_RANGE_DAYS``  longest series / adherence range accepted (default 1830 days)
``FITBIT_ALERT_*``          the alert channel (SMTP / webhook) used by the "contact participant" action
==========================  ==============================================================================
"""

import datetime as dt
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Optional, Union

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, SecretStr

from fitbit_assets import settings
from fitbit_assets.defs.alerts.channel import AlertChannelResource, AlertDeliveryError, alert_channel_from_settings
from fitbit_assets.defs.alerts.messages import Alert, Message
from fitbit_assets.serving import query as q
from fitbit_assets.serving.api.db import DEFAULT_READER_ROLE, ReadOnlyDatabase
from fitbit_assets.warehouse.core import WarehouseUnavailableError

STATIC_DIR = Path(__file__).resolve().parent / "static"
PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,64}$"
MIN_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_TIME = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
DEFAULT_SERIES_DAYS = 7
DEFAULT_ADHERENCE_DAYS = 90
CONTACT_KIND = "contact participant"
ParticipantId = Annotated[str, PathParam(pattern=PARTICIPANT_ID, description="participant_id from the roster")]
DateQuery = Annotated[Optional[dt.date], Query(description="local date, inclusive")]


def alert_channel_from_environment() -> AlertChannelResource:
    """The alert channel from the FITBIT_ALERT_* settings (secrets resolved now: the API runs outside Dagster)."""
    return alert_channel_from_settings(settings.load(), resolve_secrets=True)


def _secret(value: Optional[SecretStr]) -> Optional[str]:
    return value.get_secret_value() if value is not None else None


@dataclass
class ApiConfig:
    dsn: Optional[str] = None  # None: the warehouse DSN (embedded PostgreSQL when FITBIT_WAREHOUSE_DSN is unset)
    role: Optional[str] = DEFAULT_READER_ROLE
    token: Optional[str] = None
    max_points: int = q.DEFAULT_MAX_POINTS
    max_range_days: int = 1830
    alert_channel: Callable[[], AlertChannelResource] = field(default=alert_channel_from_environment)

    @classmethod
    def from_env(cls) -> "ApiConfig":
        """The FITBIT_API_* settings, validated (a bad one raises ``SettingsError`` naming it)."""
        configured = settings.load()
        return cls(
            dsn=_secret(configured.api_dsn),
            role=configured.api_reader_role,
            token=_secret(configured.api_token),
            max_points=configured.api_max_points,
            max_range_days=configured.api_max_range_days,
        )

    def resolved_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        from fitbit_assets.warehouse.core import WarehouseResource

        warehouse = WarehouseResource(dsn=_secret(settings.load().warehouse_dsn))
        with warehouse.connection():  # the schema (and the reader role) exist before the API reads
            pass
        return warehouse.resolved_dsn()


# ----------------------------------------------------------------------------------------- response models


class Participant(BaseModel):
    participant_id: str
    timezone: str
    enrolled_on: dt.date
    source: str
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
    participant_id: str
    timezone: str
    enrolled_on: dt.date
    last_data: Optional[dt.datetime] = None
    last_sync: Optional[dt.datetime] = None
    trailing_7d_adherence_pct: Optional[float] = None
    valid_days_7d: Optional[int] = None
    days_7d: Optional[int] = None
    consecutive_invalid_days: Optional[int] = None
    last_local_date: Optional[dt.date] = None
    last_valid_date: Optional[dt.date] = None
    latest_status_date: Optional[dt.date] = None
    latest_day_status: Optional[str] = None
    consent_state: Optional[Literal["active", "reconsent_needed"]] = Field(
        default=None, description="Google Health API consent (source google_health only)"
    )
    consent_reason: Optional[str] = None
    consent_changed_at: Optional[dt.datetime] = None
    flag: Literal["reconsent_needed", "no_data", "not_syncing", "non_adherent", "at_risk", "ok"]
    flag_reason: str


class CohortResponse(BaseModel):
    as_of: dt.datetime
    participants: list[CohortRow]


class ContactRequest(BaseModel):
    message: str = Field(min_length=1, max_length=2000, description="What the coordinator wants to say")
    local_date: Optional[dt.date] = Field(default=None, description="Day the contact is about (default: today UTC)")


class ContactResponse(BaseModel):
    participant_id: str
    subject: str
    channels: list[str]


class Problem(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    """422: a message from the API's own range checks, or FastAPI's list of parameter validation errors."""

    detail: Union[str, list[dict[str, Any]]]


ERRORS = {
    401: {"model": Problem, "description": "missing or wrong bearer token (when FITBIT_API_TOKEN is set)"},
    422: {"model": ValidationProblem, "description": "invalid parameters"},
    503: {"model": Problem, "description": "database unreachable"},
}
NOT_FOUND = {404: {"model": Problem, "description": "unknown participant"}}


# ----------------------------------------------------------------------------------------------- the app


def create_app(config: Optional[ApiConfig] = None) -> FastAPI:
    config = config or ApiConfig.from_env()
    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if app.state.db is not None:
            app.state.db.close()

    app = FastAPI(
        lifespan=lifespan,
        title="fitbit-assets API",
        version="0.1.0",
        description="Read-only access to the Fitbit study warehouse: participants, heart-rate series at an automatic "
        "resolution (raw / 1 min / 1 h / 1 day, at most `max_points` points), daily wear-time adherence and a "
        "cohort overview for coordinators. The dashboard is at `/`.",
    )
    app.state.config = config
    app.state.db = None
    bearer = HTTPBearer(auto_error=False, description="FITBIT_API_TOKEN, when the server sets one")

    def database() -> ReadOnlyDatabase:
        if app.state.db is None:
            app.state.db = ReadOnlyDatabase(config.resolved_dsn(), role=config.role)
        return app.state.db

    def authorized(credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)]) -> None:
        if config.token is None:
            return
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), config.token.encode()):
            raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(WarehouseUnavailableError)
    def unavailable(_: Request, exc: WarehouseUnavailableError) -> JSONResponse:
        return JSONResponse({"detail": f"database unavailable: {exc}"}, status_code=503)

    @app.exception_handler(q.UnknownParticipant)
    def unknown(_: Request, exc: q.UnknownParticipant) -> JSONResponse:
        return JSONResponse({"detail": f"unknown participant {exc.args[0]!r}"}, status_code=404)

    @app.exception_handler(q.QueryError)
    def bad_query(_: Request, exc: q.QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    secured = [Depends(authorized)]

    def check_time(name: str, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
        if value is None:
            return None
        value = q.as_utc(value)
        if not MIN_TIME <= value < MAX_TIME:
            raise HTTPException(422, f"{name} must be between {MIN_TIME.date()} and {MAX_TIME.date()}")
        return value

    def check_date(name: str, value: Optional[dt.date]) -> Optional[dt.date]:
        if value is not None and not MIN_TIME.date() <= value < MAX_TIME.date():
            raise HTTPException(422, f"{name} must be between {MIN_TIME.date()} and {MAX_TIME.date()}")
        return value

    @app.get("/api/health", tags=["meta"], responses={503: ERRORS[503]})
    def health() -> dict:
        """Liveness and database reachability (no token needed)."""
        with database().connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        return {"status": "ok"}

    @app.get("/api/participants", tags=["participants"], dependencies=secured, responses=ERRORS)
    def list_participants() -> list[Participant]:
        with database().connection() as conn:
            return [Participant(**row) for row in q.participants(conn)]

    @app.get(
        "/api/participants/{participant_id}", tags=["participants"], dependencies=secured,
        responses={**ERRORS, **NOT_FOUND},
    )
    def get_participant(participant_id: ParticipantId) -> Participant:
        with database().connection() as conn:
            q.require_participant(conn, participant_id)
            return Participant(**next(r for r in q.participants(conn) if r["participant_id"] == participant_id))

    @app.get(
        "/api/participants/{participant_id}/series", tags=["series"], dependencies=secured,
        responses={**ERRORS, **NOT_FOUND, 422: {"model": ValidationProblem, "description": "bad range or too many points"}},
    )
    def get_series(
        participant_id: ParticipantId,
        metric: Annotated[Literal[tuple(q.METRICS)], Query(description="metric name")] = "heart_rate",  # type: ignore[valid-type]
        start: Annotated[Optional[dt.datetime], Query(description="ISO 8601; naive = UTC. Default: end - 7 days")] = None,
        end: Annotated[Optional[dt.datetime], Query(description="ISO 8601, exclusive. Default: the last data")] = None,
        resolution: Annotated[Literal["auto", "raw", "1m", "1h", "1d"], Query()] = "auto",
        max_points: Annotated[Optional[int], Query(ge=1, le=100_000, description="at most the server's limit")] = None,
        imputed: Annotated[bool, Query(description="include imputed minutes, flagged")] = False,
    ) -> SeriesResponse:
        """A metric's series with at most ``max_points`` points (default and cap: FITBIT_API_MAX_POINTS).
        ``auto`` picks raw samples for short ranges and the 1 min / 1 h / 1 day rollups for longer ones."""
        start, end = check_time("start", start), check_time("end", end)
        limit = min(max_points or config.max_points, config.max_points)
        with database().connection() as conn:
            q.require_participant(conn, participant_id)
            if end is None:
                end = q.last_data_time(conn, participant_id, q.metric(metric)) if start is None else None
                end = end or (start + dt.timedelta(days=DEFAULT_SERIES_DAYS) if start else q.as_utc(dt.datetime.now()))
            if start is None:
                start = end - dt.timedelta(days=DEFAULT_SERIES_DAYS)
            if end <= start:
                raise HTTPException(422, "end must be after start")
            if end - start > dt.timedelta(days=config.max_range_days):
                raise HTTPException(422, f"range longer than {config.max_range_days} days")
            result = q.series(conn, participant_id, metric, start, end, resolution, limit, imputed)
        return SeriesResponse(**{**result.__dict__, "points": result.points})

    def date_range(start: Optional[dt.date], end: Optional[dt.date], last: Optional[dt.date]) -> tuple[dt.date, dt.date]:
        start, end = check_date("start", start), check_date("end", end)
        end = end or (start + dt.timedelta(days=DEFAULT_ADHERENCE_DAYS - 1) if start else None) or last
        end = end or dt.datetime.now(dt.timezone.utc).date()
        start = start or end - dt.timedelta(days=DEFAULT_ADHERENCE_DAYS - 1)
        if end < start:
            raise HTTPException(422, "end must not be before start")
        if (end - start).days + 1 > config.max_range_days:
            raise HTTPException(422, f"range longer than {config.max_range_days} days")
        return start, end

    @app.get(
        "/api/participants/{participant_id}/adherence", tags=["adherence"], dependencies=secured,
        responses={**ERRORS, **NOT_FOUND, 422: {"model": ValidationProblem, "description": "bad range"}},
    )
    def get_participant_adherence(
        participant_id: ParticipantId, start: DateQuery = None, end: DateQuery = None
    ) -> AdherenceResponse:
        """Daily adherence of one participant (default: the 90 days ending at the last computed day)."""
        with database().connection() as conn:
            q.require_participant(conn, participant_id)
            last = next((r["last_local_date"] for r in q.participants(conn) if r["participant_id"] == participant_id), None)
            start, end = date_range(start, end, last)
            days = q.participant_adherence(conn, participant_id, start, end)
        return AdherenceResponse(start=start, end=end, days=[AdherenceDay(**d) for d in days])

    @app.get(
        "/api/participants/{participant_id}/sleep", tags=["sleep"], dependencies=secured,
        responses={**ERRORS, **NOT_FOUND, 422: {"model": ValidationProblem, "description": "bad range"}},
    )
    def get_participant_sleep(participant_id: ParticipantId, start: DateQuery = None, end: DateQuery = None) -> SleepResponse:
        """Nightly sleep of one participant (default: the 90 nights ending at the last loaded night)."""
        with database().connection() as conn:
            q.require_participant(conn, participant_id)
            start, end = date_range(start, end, q.last_sleep_night(conn, participant_id))
            nights = q.participant_sleep(conn, participant_id, start, end)
        return SleepResponse(participant_id=participant_id, start=start, end=end, nights=[SleepNight(**n) for n in nights])

    @app.get(
        "/api/adherence", tags=["adherence"], dependencies=secured,
        responses={**ERRORS, 422: {"model": ValidationProblem, "description": "bad range"}},
    )
    def get_cohort_adherence(start: DateQuery = None, end: DateQuery = None) -> AdherenceResponse:
        """Daily adherence of every participant for a date range (default: the last 90 days with data)."""
        with database().connection() as conn:
            last = max((r["last_local_date"] for r in q.participants(conn) if r["last_local_date"]), default=None)
            start, end = date_range(start, end, last)
            days = q.cohort_adherence(conn, start, end)
        return AdherenceResponse(start=start, end=end, days=[AdherenceDay(**d) for d in days])

    @app.get("/api/cohort", tags=["cohort"], dependencies=secured, responses=ERRORS)
    def get_cohort(
        as_of: Annotated[Optional[dt.datetime], Query(description="reference time for sync staleness (default now)")] = None,
    ) -> CohortResponse:
        """Per participant: last data, last sync, trailing 7-day adherence and a flag, most urgent first."""
        as_of = check_time("as_of", as_of) or dt.datetime.now(dt.timezone.utc)
        with database().connection() as conn:
            rows = q.cohort_overview(conn, as_of)
        return CohortResponse(as_of=as_of, participants=[CohortRow(**r) for r in rows])

    @app.post(
        "/api/participants/{participant_id}/contact", tags=["participants"], dependencies=secured,
        responses={
            **ERRORS,
            **NOT_FOUND,
            400: {"model": Problem, "description": "the body is not valid JSON"},
            502: {"model": Problem, "description": "a configured channel did not accept the message"},
            503: {"model": Problem, "description": "no alert channel configured, or database unreachable"},
        },
    )
    def contact_participant(participant_id: ParticipantId, body: ContactRequest) -> ContactResponse:
        """Send a "contact participant" request to the study coordinators through the alert channel
        (email FITBIT_ALERT_SMTP_* and/or webhook FITBIT_ALERT_WEBHOOK_URL)."""
        with database().connection() as conn:
            q.require_participant(conn, participant_id)
        channel = config.alert_channel()
        if not channel.channels():
            raise HTTPException(
                503, "no alert channel configured (FITBIT_ALERT_SMTP_HOST + FITBIT_ALERT_SMTP_TO or FITBIT_ALERT_WEBHOOK_URL)"
            )
        day = check_date("local_date", body.local_date) or dt.datetime.now(dt.timezone.utc).date()
        message = Message(participant_id, day, (Alert(participant_id, day, CONTACT_KIND, body.message, "dashboard"),))
        try:
            delivered = channel.send(message)
        except AlertDeliveryError as exc:
            raise HTTPException(502, str(exc)) from exc
        return ContactResponse(participant_id=participant_id, subject=message.subject, channels=delivered)

    # ------------------------------------------------------------------------------------------ dashboard
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app
