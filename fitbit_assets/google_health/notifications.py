"""Push notifications (pure): endpoint verification, the ECDSA signature, the payload -> affected intervals.

Reference (developers.google.com/health/webhooks, /health/notifications, ``EndpointAuthorization`` and
``projects.subscribers.create`` in health.v4.json):

- Endpoint verification: at subscriber create/update Google POSTs ``{"type": "verification"}`` twice, once with the
  ``Authorization`` header set to ``EndpointAuthorization.secret`` (expects 201) and once without it (expects 401
  or 403).
- Every notification body is signed: an ECDSA NIST P-256 signature of the JSON payload in the
  ``GOOGLE-HEALTH-API-SIGNATURE`` header (health.v4.json revision 20261030, ``EndpointAuthorization``; the reference
  pages of earlier revisions name it ``X-HEALTHAPI-SIGNATURE``; both are read). The subscriber's secret comes along
  as ``Authorization`` (the document says with every notification; a community report says live deliveries omit
  it): another value is refused, none is accepted.
  The signature is taken as base64 of the DER signature over the raw body bytes with SHA-256; Google's public key
  is configured (it is not published in the reference: docs/google-health.md, live-service checklist).
- The body is a JSON array of 1-99 ``{"data": {"version", "clientProvidedSubscriptionName", "healthUserId",
  "operation", "dataType", "intervals": [{"physicalTimeInterval": {"startTime", "endTime"}, ...}]}}``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADERS = ("GOOGLE-HEALTH-API-SIGNATURE", "X-HEALTHAPI-SIGNATURE")
VERIFICATION = {"type": "verification"}


class NotificationError(ValueError):
    """A body that is not a notification array of the documented shape; the message names the field."""


@dataclass(frozen=True)
class Notification:
    health_user_id: str
    data_type: str
    start: dt.datetime
    end: dt.datetime


def signature_valid(public_key_pem: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (base64 DER ECDSA P-256 / SHA-256) signs ``body`` with Google's key."""
    if not signature:
        return False
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("the configured Google Health webhook public key is not a NIST P-256 (secp256r1) key")
    try:
        key.verify(base64.b64decode(signature, validate=True), body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _time(value, where: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise NotificationError(f"{where}: expected an RFC 3339 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise NotificationError(f"{where}: expected an RFC 3339 time with an offset, got {value!r}")
    return parsed


def parse_notifications(payload: object) -> list[Notification]:
    """Every (user, data type, physical interval) of a notification array."""
    if not isinstance(payload, list) or not 1 <= len(payload) <= 99:
        raise NotificationError("body: expected a JSON array of 1-99 notifications")
    found = []
    for i, item in enumerate(payload):
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(data, dict):
            raise NotificationError(f"[{i}].data: missing")
        for name in ("healthUserId", "dataType"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise NotificationError(f"[{i}].data.{name}: missing")
        intervals = data.get("intervals")
        if not isinstance(intervals, list) or not intervals:
            raise NotificationError(f"[{i}].data.intervals: expected a non-empty list")
        for j, interval in enumerate(intervals):
            where = f"[{i}].data.intervals[{j}].physicalTimeInterval"
            physical = interval.get("physicalTimeInterval") if isinstance(interval, dict) else None
            if not isinstance(physical, dict):
                raise NotificationError(f"{where}: missing")
            start, end = _time(physical.get("startTime"), f"{where}.startTime"), _time(physical.get("endTime"),
                                                                                        f"{where}.endTime")
            if end < start:
                raise NotificationError(f"{where}: endTime before startTime")
            found.append(Notification(data["healthUserId"], data["dataType"], start, end))
    return found


def decode(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        raise NotificationError("body: not JSON") from None


def local_day_range(start: dt.datetime, end: dt.datetime, timezone: str) -> tuple[dt.date, dt.date]:
    """The participant local days (roster zone, the rule of every pull) an affected interval touches; an interval
    ending exactly at local midnight does not touch the next day."""
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone), end.astimezone(zone)
    last_day = last.date() - dt.timedelta(days=1) if last.time() == dt.time() and last > first else last.date()
    return first.date(), last_day
