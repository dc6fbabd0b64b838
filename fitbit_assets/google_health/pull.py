"""One participant-day pull: list the day's heart rate, keep the raw responses, write the day CSV + lineage.

Files (``<landing>`` = FITBIT_LANDING_DIR):
- ``<landing>/google_health/<participant>/<date>/heart-rate.json``: the request and every page as received
  (provenance, replay), replaced by each pull of the day;
- ``<landing>/heart_rate/<participant>/<date>.csv`` + ``.lineage.json`` (source_format ``google_health``): what
  every other source produces, so validation and the warehouse load are unchanged. A re-pull that brings late
  data rewrites the CSV; its new fingerprint makes the next stages validate and replace that day atomically;
- ``<landing>/<family>/<participant>/<date>.json``: the Web-API-shaped document of a metric family
  (``google_health/daily.py``), rewritten only when its content changed, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.files import document_bytes
from fitbit_assets.domain.sources.day_files import heart_rate_csv_bytes
from fitbit_assets.domain.sources.lineage import Lineage, write_sidecar
from fitbit_assets.google_health import HEART_RATE_TYPE, SOURCE, wear
from fitbit_assets.google_health import sleep as sleep_type
from fitbit_assets.google_health.client import HealthApiClient
from fitbit_assets.google_health.daily import DAILY_RESPIRATORY_RATE, breathing_rate_document
from fitbit_assets.google_health.heart_rate import day_filter, day_samples
from fitbit_assets.lib.study_files import _atomic_write_bytes
from fitbit_assets.warehouse.core import sql_query


def _keep_raw(client_request: dict, pages: list[dict], path: Path) -> None:
    document = {"request": client_request, "pulled_at": dt.datetime.now(dt.timezone.utc).isoformat(), "pages": pages}
    _atomic_write_bytes(path, json.dumps(document, separators=(",", ":")).encode())


def _write_if_changed(path: Path, payload: bytes) -> bool:
    if path.exists() and path.read_bytes() == payload:
        return False  # unchanged bytes keep their fingerprint: the next stages skip the day
    _atomic_write_bytes(path, payload)
    return True


def raw_response_path(landing_dir: str | Path, participant_id: str, local_date: dt.date, data_type: str) -> Path:
    return Path(landing_dir) / SOURCE / participant_id / local_date.isoformat() / f"{data_type}.json"


@dataclass(frozen=True)
class DayPull:
    samples: int
    points: int
    duplicates: int
    changed: bool  # the day CSV was written (new or different from the previous pull)


def pull_heart_rate_day(client: HealthApiClient, landing_dir: str | Path, participant_id: str, day: LocalDay,
                        day_csv: Path) -> DayPull:
    filter_expression = day_filter(day)
    request = f"GET /v4/users/me/dataTypes/{HEART_RATE_TYPE}/dataPoints (filter {filter_expression!r})"
    pages = client.list_pages(HEART_RATE_TYPE, filter_expression)
    raw = raw_response_path(landing_dir, participant_id, day.local_date, HEART_RATE_TYPE)
    _keep_raw({"dataType": HEART_RATE_TYPE, "filter": filter_expression}, pages, raw)
    source_file = str(raw.relative_to(Path(landing_dir)))
    result = day_samples(pages, day, request)
    if result.samples.empty:
        return DayPull(0, result.points, result.duplicates, changed=False)  # no data yet: leave any earlier file
    payload = heart_rate_csv_bytes(result.samples)
    changed = _write_if_changed(day_csv, payload)
    write_sidecar(day_csv, Lineage(SOURCE, (source_file,)), payload)
    return DayPull(len(result.samples), result.points, result.duplicates, changed)


def pull_breathing_rate_day(client: HealthApiClient, landing_dir: str | Path, participant_id: str,
                            local_date: dt.date, family_document: Path) -> bool | None:
    """``daily-respiratory-rate`` -> the ``breathing_rate`` family's day document. Returns whether it changed, or
    None when the API has no value for the day yet."""
    daily = DAILY_RESPIRATORY_RATE
    filter_expression = daily.day_filter(local_date)
    pages = client.list_pages(daily.data_type, filter_expression)
    _keep_raw({"dataType": daily.data_type, "filter": filter_expression}, pages,
              raw_response_path(landing_dir, participant_id, local_date, daily.data_type))
    request = f"GET /v4/users/me/dataTypes/{daily.data_type}/dataPoints (filter {filter_expression!r})"
    document = breathing_rate_document(pages, local_date, request)
    if document is None:
        return None
    return _write_if_changed(family_document, document_bytes(document))


def pull_sleep_day(client: HealthApiClient, landing_dir: str | Path, participant_id: str, day: LocalDay,
                   family_document: Path) -> bool | None:
    """Sleeps that ended on the local day -> the ``sleep`` family's document (issue 14's contract). Returns whether
    it changed, or None when no sleep ended on the day yet."""
    filter_expression = sleep_type.day_filter(day)
    pages = client.list_pages(sleep_type.SLEEP_TYPE, filter_expression, page_size=sleep_type.PAGE_SIZE)
    _keep_raw({"dataType": sleep_type.SLEEP_TYPE, "filter": filter_expression}, pages,
              raw_response_path(landing_dir, participant_id, day.local_date, sleep_type.SLEEP_TYPE))
    request = f"GET /v4/users/me/dataTypes/{sleep_type.SLEEP_TYPE}/dataPoints (filter {filter_expression!r})"
    document = sleep_type.sleep_document(pages, day, request)
    if document is None:
        return None
    return _write_if_changed(family_document, document_bytes(document))


def pull_wear_day(client: HealthApiClient, landing_dir: str | Path, participant_id: str,
                  day: LocalDay) -> wear.WearDay | None:
    """``steps`` presence -> the day's on-wrist minutes (None: no steps point, nothing known yet)."""
    filter_expression = wear.day_filter(day)
    pages = client.list_pages(wear.STEPS_TYPE, filter_expression)
    _keep_raw({"dataType": wear.STEPS_TYPE, "filter": filter_expression}, pages,
              raw_response_path(landing_dir, participant_id, day.local_date, wear.STEPS_TYPE))
    request = f"GET /v4/users/me/dataTypes/{wear.STEPS_TYPE}/dataPoints (filter {filter_expression!r})"
    return wear.wear_day(pages, day, request)


def save_wear_day(conn, participant_id: str, day: wear.WearDay) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(sql_query("google_health_wear_upsert"), {
            "participant_id": participant_id, "local_date": day.local_date,
            "on_wrist_minutes": day.on_wrist_minutes, "true_zero_minutes": day.true_zero_minutes,
        })
