"""One participant-day pull: list the day's heart rate, keep the raw responses, write the day CSV + lineage.

Files (``<landing>`` = FITBIT_LANDING_DIR):
- ``<landing>/google_health/<participant>/<date>/heart-rate.json``: the request and every page as received
  (provenance, replay), replaced by each pull of the day;
- ``<landing>/heart_rate/<participant>/<date>.csv`` + ``.lineage.json`` (source_format ``google_health``): what
  every other source produces, so validation and the warehouse load are unchanged. A re-pull that brings late
  data rewrites the CSV; its new fingerprint makes the next stages validate and replace that day atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from fitbit_assets.google_health import HEART_RATE_TYPE, SOURCE
from fitbit_assets.google_health.client import HealthApiClient
from fitbit_assets.google_health.heart_rate import day_filter, day_samples
from fitbit_assets.local_days import LocalDay
from fitbit_assets.sources.lineage import Lineage, write_sidecar
from fitbit_assets.study_files import _atomic_write_bytes


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
    document = {"request": {"dataType": HEART_RATE_TYPE, "filter": filter_expression},
                "pulled_at": dt.datetime.now(dt.timezone.utc).isoformat(), "pages": pages}
    _atomic_write_bytes(raw, json.dumps(document, indent=None, separators=(",", ":")).encode())
    source_file = str(raw.relative_to(Path(landing_dir)))
    result = day_samples(pages, day, (source_file,), request)
    if result.day.samples.empty:
        return DayPull(0, result.points, result.duplicates, changed=False)  # no data yet: leave any earlier file
    payload = result.day.csv_bytes()
    changed = not day_csv.exists() or day_csv.read_bytes() != payload
    if changed:
        _atomic_write_bytes(day_csv, payload)
    write_sidecar(day_csv, Lineage(SOURCE, (source_file,)), payload)
    return DayPull(len(result.day.samples), result.points, result.duplicates, changed)
