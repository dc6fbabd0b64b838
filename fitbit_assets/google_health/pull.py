"""One participant-day pull: every data type read, its raw responses kept, the day CSV + lineage and the family
documents written.

Files (``<landing>`` = FITBIT_LANDING_DIR):
- ``<landing>/google_health/<participant>/<date>/heart-rate.json``: the request and every page as received
  (provenance, replay), replaced by each pull of the day;
- ``<landing>/heart_rate/<participant>/<date>.csv`` + ``.lineage.json`` (source_format ``google_health``): what
  every other source produces, so validation and the warehouse load are unchanged. A re-pull that brings late
  data rewrites the CSV; its new fingerprint makes the next stages validate and replace that day atomically;
- ``<landing>/<family>/<participant>/<date>.json``: the Web-API-shaped document of a metric family
  (``FAMILY_PULLS``: conversions in ``daily.py``, ``sleep.py``, ``intraday.py``, ``activity.py``), written only when its bytes
  changed, for the same reason; each type's raw pages sit next to the heart rate's as ``<data type>.json``;
- ``device_status`` rows from ``users.pairedDevices`` (once a run), its raw pages as ``paired-devices.json``.

Each function pulls one data type (or the activity summary's four): the asset calls them one by one, so a type that
fails or is refused never keeps another from being pulled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fitbit_assets.domain.atomic_files import atomic_write_bytes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics.files import document_bytes
from fitbit_assets.domain.sources.day_files import samples_csv_bytes
from fitbit_assets.domain.sources.lineage import Lineage, write_sidecar
from fitbit_assets.google_health import HEART_RATE_TYPE, PAIRED_DEVICES, SOURCE, activity, device_status, intraday, wear
from fitbit_assets.google_health import sleep as sleep_type
from fitbit_assets.google_health.client import PAGE_SIZE, HealthApiClient
from fitbit_assets.google_health.daily import DAILY_RESPIRATORY_RATE, breathing_rate_document
from fitbit_assets.google_health.heart_rate import day_filter, day_samples
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query


def _keep_raw(client_request: dict, pages: list[dict], path: Path) -> None:
    document = {"request": client_request, "pulled_at": dt.datetime.now(dt.timezone.utc).isoformat(), "pages": pages}
    atomic_write_bytes(path, json.dumps(document, separators=(",", ":")).encode())


def _write_if_changed(path: Path, payload: bytes) -> bool:
    if path.exists() and path.read_bytes() == payload:
        return False  # unchanged bytes keep their fingerprint: the next stages skip the day
    atomic_write_bytes(path, payload)
    return True


def raw_response_path(landing_dir: str | Path, participant_id: str, local_date: dt.date, data_type: str) -> Path:
    return Path(landing_dir) / SOURCE / participant_id / local_date.isoformat() / f"{data_type}.json"


@dataclass(frozen=True)
class DayPull:
    samples: int
    points: int
    duplicates: int
    changed: bool  # the day CSV was written (new or different from the previous pull)
    offset_mismatches: int = 0  # samples whose device utcOffset is not the roster zone's (heart_rate.py)
    device_offset: str | None = None


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
    payload = samples_csv_bytes(result.samples)
    changed = _write_if_changed(day_csv, payload)
    write_sidecar(day_csv, Lineage(SOURCE, (source_file,)), payload)
    return DayPull(len(result.samples), result.points, result.duplicates, changed, result.offset_mismatches,
                   result.device_offset)


@dataclass(frozen=True)
class FamilyPull:
    """One listed data type whose day becomes one metric family's Web-API-shaped document."""

    data_type: str
    family: str  # landing/<family>/<participant>/<date>.json
    day_filter: Callable[[LocalDay], str]
    document: Callable[[list[dict], LocalDay, str], dict | None]  # pure conversion; None: no data for the day
    page_size: int = PAGE_SIZE

    @property
    def data_types(self) -> tuple[str, ...]:
        return (self.data_type,)

    def fetch(self, client: HealthApiClient, landing_dir: str | Path, participant_id: str, day: LocalDay) -> dict | None:
        filter_expression = self.day_filter(day)
        pages = client.list_pages(self.data_type, filter_expression, page_size=self.page_size)
        _keep_raw({"dataType": self.data_type, "filter": filter_expression}, pages,
                  raw_response_path(landing_dir, participant_id, day.local_date, self.data_type))
        request = f"GET /v4/users/me/dataTypes/{self.data_type}/dataPoints (filter {filter_expression!r})"
        return self.document(pages, day, request)


@dataclass(frozen=True)
class ActivityRollupPull:
    """The daily rollups of steps, distance and total calories, and the listed activity-level intervals (list /
    reconcile only, per the reference) -> ``activity_summary``."""

    family: str = "activity_summary"
    data_types: tuple[str, ...] = (*activity.ROLLUP_TYPES, activity.ACTIVITY_LEVEL_TYPE)

    def fetch(self, client: HealthApiClient, landing_dir: str | Path, participant_id: str, day: LocalDay) -> dict | None:
        pages = {}
        for data_type in activity.ROLLUP_TYPES:
            pages[data_type] = client.daily_rollup_pages(data_type, day.local_date)
            # <type>.daily-rollup.json: next to the steps list the on-wrist minutes read
            _keep_raw({"dataType": data_type, "dailyRollUp": {"day": day.local_date.isoformat(), "windowSizeDays": 1}},
                      pages[data_type],
                      raw_response_path(landing_dir, participant_id, day.local_date, f"{data_type}.daily-rollup"))
        level_filter = activity.activity_level_filter(day)
        level_pages = client.list_pages(activity.ACTIVITY_LEVEL_TYPE, level_filter)
        _keep_raw({"dataType": activity.ACTIVITY_LEVEL_TYPE, "filter": level_filter}, level_pages,
                  raw_response_path(landing_dir, participant_id, day.local_date, activity.ACTIVITY_LEVEL_TYPE))
        level_request = (f"GET /v4/users/me/dataTypes/{activity.ACTIVITY_LEVEL_TYPE}/dataPoints "
                         f"(filter {level_filter!r})")
        return activity.activity_summary_document(pages, level_pages, day, level_request)


FAMILY_PULLS = (
    FamilyPull(DAILY_RESPIRATORY_RATE.data_type, DAILY_RESPIRATORY_RATE.family,
               lambda day: DAILY_RESPIRATORY_RATE.day_filter(day.local_date),
               lambda pages, day, request: breathing_rate_document(pages, day.local_date, request)),
    # Sleeps that ended on the local day (the sleep family's contract: the file date is dateOfSleep).
    FamilyPull(sleep_type.SLEEP_TYPE, "sleep", sleep_type.day_filter, sleep_type.sleep_document, sleep_type.PAGE_SIZE),
    FamilyPull(intraday.OXYGEN_SATURATION_TYPE, "spo2", intraday.spo2_filter, intraday.spo2_document),
    FamilyPull(intraday.ACTIVE_ZONE_MINUTES_TYPE, "active_zone_minutes", intraday.azm_filter, intraday.azm_document),
    ActivityRollupPull(),
)


def pull_family_day(client: HealthApiClient, landing_dir: str | Path, participant_id: str, day: LocalDay,
                    pull: FamilyPull | ActivityRollupPull, family_document: Path) -> bool | None:
    """One family's day: its raw responses kept, its document written. Returns whether the document changed, or
    None when the API has no data for the day yet (any earlier document is left as it is)."""
    document = pull.fetch(client, landing_dir, participant_id, day)
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
    with transaction(conn) as cur:
        cur.execute(sql_query("google_health_wear_upsert"), {
            "participant_id": participant_id, "local_date": day.local_date,
            "on_wrist_minutes": day.on_wrist_minutes, "true_zero_minutes": day.true_zero_minutes,
        })


def pull_paired_devices(client: HealthApiClient, landing_dir: str | Path, participant_id: str,
                        today: dt.date) -> list[device_status.DeviceStatus]:
    """``users.pairedDevices``: the raw pages kept next to the day's data, each tracker's sync state parsed."""
    pages = client.paired_devices()
    _keep_raw({"pairedDevices": "list"}, pages, raw_response_path(landing_dir, participant_id, today, PAIRED_DEVICES))
    return device_status.paired_devices(pages, "GET /v4/users/me/pairedDevices")


def save_device_status(conn, participant_id: str, devices: list[device_status.DeviceStatus],
                       observed_at: dt.datetime) -> None:
    with transaction(conn) as cur:
        for device in devices:
            cur.execute(sql_query("device_status_insert"), {
                "participant_id": participant_id, "device_id": device.device_id,
                "device_version": device.device_version, "last_sync_at": device.last_sync_at,
                "battery_level": device.battery_level, "battery_status": device.battery_status,
                "observed_at": observed_at,
            })
