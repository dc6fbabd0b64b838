"""Source adapters: real Fitbit exports dropped in ``landing/<participant_id>/`` -> the pipeline's day CSVs.

One small module per format, all producing the same ``Samples`` frame (``samples``):

=============================  ==============================================  ======================================
format                         recognized files                                dataset (module)
=============================  ==============================================  ======================================
``fitabase_csv``               ``*heartrate_seconds*.csv`` / ``Id,Time,Value``   heart_rate (``fitabase``)
``takeout_json``               ``heart_rate-YYYY-MM-DD.json``                  heart_rate (``takeout``)
``webapi_json``                ``*heart*.json`` (saved intraday responses)     heart_rate (``webapi``)
``fitabase_daily_activity_csv`` ``*dailyActivity*.csv``                        activity_summary (``fitabase_daily``)
``fitabase_minute_sleep_csv``  ``*minuteSleep*.csv``                           sleep (``fitabase_daily``)
``fitabase_sleep_day_csv``     ``*sleepDay*.csv``                              sleep (``fitabase_daily``)
``fitabase_sync_csv``          ``*syncEvents*.csv``                            sync (``sync_events``, device sync)
``webapi_devices_json``        ``*devices*.json``                              sync (``sync_events``, device sync)
=============================  ==============================================  ======================================

Exports are dropped in a participant's folder ``landing/<participant_id>/`` or, for Fitabase files with an ``Id``
column (merged study-wide files), in the study folder ``landing/fitabase/`` (``COHORT_DIR``), whose rows are routed
to participants by the roster's ``fitabase_id``. ``staging`` turns them into the day files of each dataset
(``landing/<dataset>/<participant>/<date>.csv|json``) that the validation and loaders consume unchanged; every
other file in the folders is ignored and listed.
A live client (e.g. the Google Health API) would be one more adapter returning the same frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fitbit_assets.domain.heart_rate import HEART_RATE
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.sources import fitabase, fitabase_daily, sync_events, takeout, webapi
from fitbit_assets.domain.sources.samples import ExportFormatError

ACTIVITY, SLEEP, SYNC = "activity_summary", "sleep", "sync"
COHORT_DIR = "fitabase"  # landing/fitabase/: study-wide Fitabase exports, rows routed by Id


@dataclass(frozen=True)
class Adapter:
    format: str
    kind: str  # the dataset: HEART_RATE, ACTIVITY, SLEEP or SYNC
    claims: Callable[[Path, str], bool]
    read: Callable[[Path, Participant], pd.DataFrame] | None  # formats without an Id, read for one participant
    # Study-wide formats: ``read_rows(path)`` gives every row with its Fitabase ``Id`` (routed by the roster).
    read_rows: Callable[[Path], pd.DataFrame] | None = None


# Order matters: the first adapter that claims a file reads it.
ADAPTERS: tuple[Adapter, ...] = (
    Adapter(takeout.FORMAT, HEART_RATE, takeout.claims,
            lambda path, p: takeout.read(path, p.participant_id, p.timezone, p.takeout_timestamps)),
    Adapter(fitabase.FORMAT, HEART_RATE, fitabase.claims,
            None, fitabase.read_rows),
    Adapter(fitabase_daily.ACTIVITY_FORMAT, ACTIVITY, fitabase_daily.claims_activity, None, fitabase_daily.read_activity),
    Adapter(fitabase_daily.MINUTE_SLEEP_FORMAT, SLEEP, fitabase_daily.claims_minute_sleep, None,
            fitabase_daily.read_minute_sleep),
    Adapter(fitabase_daily.SLEEP_DAY_FORMAT, SLEEP, fitabase_daily.claims_sleep_day, None, fitabase_daily.read_sleep_day),
    Adapter(sync_events.FITABASE_FORMAT, SYNC, sync_events.claims_fitabase,
            lambda path, p: sync_events.read_fitabase(path, p.timezone)),
    Adapter(sync_events.DEVICES_FORMAT, SYNC, sync_events.claims_devices,
            lambda path, p: sync_events.read_devices(path, p.timezone)),
    Adapter(webapi.FORMAT, HEART_RATE, webapi.claims, lambda path, p: webapi.read(path, p.participant_id, p.timezone)),
)


# The datasets ``staging`` writes day files of (sync files are loaded by the device_sync asset itself).
STAGED_DATASETS: tuple[str, ...] = tuple(dict.fromkeys(a.kind for a in ADAPTERS if a.kind != SYNC))


def export_dir(landing_dir: Path | str, participant_id: str) -> Path:
    """Where a coordinator drops a participant's exports (any layout below it, e.g. an unzipped Takeout)."""
    return Path(landing_dir) / participant_id


def cohort_dir(landing_dir: Path | str) -> Path:
    """Where a coordinator drops study-wide Fitabase exports (every participant's rows, routed by ``Id``)."""
    return Path(landing_dir) / COHORT_DIR


def claim(path: Path) -> Adapter | None:
    """The first adapter that claims the file (order matters), or None: the file is ignored."""
    first = _first_line(path)
    return next((a for a in ADAPTERS if a.claims(path, first)), None)


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.readline(512).decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class FolderScan:
    files: tuple[tuple[Adapter, Path], ...]
    ignored: tuple[Path, ...]

    def of_kind(self, kind: str) -> list[tuple[Adapter, Path]]:
        return [(a, p) for a, p in self.files if a.kind == kind]


def scan(folder: Path) -> FolderScan:
    files, ignored = [], []
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            adapter = claim(path)
            if adapter is None:
                ignored.append(path)
            else:
                files.append((adapter, path))
    return FolderScan(tuple(files), tuple(ignored))


def read_sync_events(
    folder: Path, participant: Participant
) -> tuple[list[tuple[str, Path, pd.DataFrame]], list[ExportFormatError]]:
    """(format, file, events) of every readable sync file in the folder, and the errors of the malformed ones
    (each names its file and rows; the other files are still read)."""
    parsed, errors = [], []
    for adapter, path in scan(folder).of_kind(SYNC):
        try:
            parsed.append((adapter.format, path, adapter.read(path, participant)))
        except ExportFormatError as exc:
            errors.append(exc)
    return parsed, errors


__all__ = ["ADAPTERS", "COHORT_DIR", "ExportFormatError", "STAGED_DATASETS", "claim", "cohort_dir", "export_dir",
           "read_sync_events", "scan"]
