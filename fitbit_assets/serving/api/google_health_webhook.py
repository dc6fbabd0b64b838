"""The Google Health push-notification receiver: its own small ASGI app (``create_webhook_app``), one router.

``POST /google-health/notifications`` answers Google's endpoint verification (``{"type": "verification"}``: 201 with
the configured ``Authorization`` value, 401 without or with another one) and accepts notifications whose
signature (``GOOGLE-HEALTH-API-SIGNATURE``, health.v4.json's name; ``X-HEALTHAPI-SIGNATURE`` on older pages) verifies
with Google's public key (403 otherwise, 400 for a body of the wrong shape).
Accepted notifications are stored in ``google_health_notification`` (participant from the stored ``healthUserId``,
data type, affected interval, received_at, processed=false); nothing is pulled inside the request: the
``google_health_notification_sensor`` asks Dagster for the affected participant-days, so the data flows through the
same assets, checks and alerts. Notifications of users no participant has are answered 200 and counted, so Google
does not retry them. Rules: ``fitbit_assets/google_health/notifications.py``. It writes, so it runs with the
warehouse DSN, not the API's read-only one (docs/google-health.md).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import psycopg2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fitbit_assets.google_health.notifications import (
    SIGNATURE_HEADERS,
    VERIFICATION,
    Notification,
    NotificationError,
    decode,
    parse_notifications,
    signature_valid,
)
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query

PATH = "/google-health/notifications"


@dataclass(frozen=True)
class WebhookConfig:
    dsn: str  # the warehouse (writes the notification table)
    authorization: str  # EndpointAuthorization.secret: the whole Authorization header value, e.g. "Bearer ..."
    public_key_pem: str  # Google Health API's ECDSA P-256 public key


router = APIRouter()


def _store(dsn: str, notifications: list[Notification]) -> tuple[int, int]:
    """(stored, of unknown users); one transaction for the whole delivery."""
    stored = unknown = 0
    conn = psycopg2.connect(dsn)
    try:
        with transaction(conn) as cur:
            for notification in notifications:
                cur.execute(sql_query("google_health_participant_of_user"),
                            {"health_user_id": notification.health_user_id})
                row = cur.fetchone()
                if row is None:
                    unknown += 1
                    continue
                cur.execute(sql_query("google_health_notification_insert"), {
                    "participant_id": row[0], "data_type": notification.data_type,
                    "interval_start": notification.start, "interval_end": notification.end})
                stored += 1
    finally:
        conn.close()
    return stored, unknown


@router.post(PATH, status_code=200)
async def receive_notifications(request: Request) -> Response:
    config: WebhookConfig = request.app.state.google_health_webhook
    body = await request.body()
    authorization = request.headers.get("Authorization")
    authorized = authorization is not None and hmac.compare_digest(authorization, config.authorization)
    try:
        payload = decode(body)
    except NotificationError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if payload == VERIFICATION:
        return Response(status_code=201 if authorized else 401)
    if authorization is not None and not authorized:
        return Response(status_code=401)
    signature = next((request.headers[h] for h in SIGNATURE_HEADERS if h in request.headers), None)
    if not signature_valid(config.public_key_pem, body, signature):
        return JSONResponse({"error": "signature missing or not Google Health's"}, status_code=403)
    try:
        notifications = parse_notifications(payload)
    except NotificationError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    stored, unknown = await run_in_threadpool(_store, config.dsn, notifications)
    return JSONResponse({"stored": stored, "unknown_users": unknown})


def app_from_settings() -> FastAPI:
    """``uvicorn --factory fitbit_assets.serving.api.google_health_webhook:app_from_settings`` (docs/google-health.md)."""
    from fitbit_assets import settings

    configured = settings.load()
    needed = {"FITBIT_WAREHOUSE_DSN": configured.warehouse_dsn,
              "FITBIT_GOOGLE_WEBHOOK_AUTHORIZATION": configured.google_webhook_authorization,
              "FITBIT_GOOGLE_WEBHOOK_PUBLIC_KEY_PATH": configured.google_webhook_public_key_path}
    missing = [name for name, value in needed.items() if value is None]
    if missing:
        raise settings.SettingsError(f"the Google Health notification receiver needs {', '.join(missing)}")
    return create_webhook_app(WebhookConfig(configured.warehouse_dsn.get_secret_value(),
                                            configured.google_webhook_authorization.get_secret_value(),
                                            configured.google_webhook_public_key_path.read_text()))


def create_webhook_app(config: WebhookConfig) -> FastAPI:
    app = FastAPI(title="fitbit-assets Google Health notifications", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.google_health_webhook = config
    app.include_router(router)
    return app
