"""Source adapters: real Fitbit exports dropped in ``landing/<participant_id>/`` -> the pipeline's day CSVs.

One small module per format, all producing the same ``Samples`` frame (``base``):

=====================  ===========================================  ===================================
format                 recognized files                             module
=====================  ===========================================  ===================================
``fitabase_csv``       ``*heartrate_seconds*.csv`` / ``Id,Time,Value``  ``fitabase``
``takeout_json``       ``heart_rate-YYYY-MM-DD.json``               ``takeout``
``webapi_json``        ``*heart*.json`` (saved intraday responses)  ``webapi``
``fitabase_sync_csv``  ``*syncEvents*.csv``                         ``sync_events`` (device sync)
``webapi_devices_json`` ``*devices*.json``                          ``sync_events`` (device sync)
=====================  ===========================================  ===================================

Heart-rate exports are split into ``landing/heart_rate/<participant>/<date>.csv`` (``staging``), which the
existing validation and COPY loader consume unchanged; every other file in the folder is ignored and listed.
A live client (e.g. the Google Health API) would be one more adapter returning the same frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fitbit_assets.roster import Participant
from fitbit_assets.sources import fitabase, sync_events, takeout, webapi
from fitbit_assets.sources.base import DayExport, ExportFormatError, split_local_days

HEART_RATE, SYNC = "heart_rate", "sync"


@dataclass(frozen=True)
class Adapter:
    format: str
    kind: str  # HEART_RATE or SYNC
    claims: Callable[[Path, str], bool]
    read: Callable[[Path, Participant], pd.DataFrame]


# Order matters: the first adapter that claims a file reads it.
ADAPTERS: tuple[Adapter, ...] = (
    Adapter(takeout.FORMAT, HEART_RATE, takeout.claims,
            lambda path, p: takeout.read(path, p.participant_id, p.timezone, p.takeout_timestamps)),
    Adapter(fitabase.FORMAT, HEART_RATE, fitabase.claims, lambda path, p: fitabase.read(path, p.participant_id, p.timezone)),
    Adapter(sync_events.FITABASE_FORMAT, SYNC, sync_events.claims_fitabase,
            lambda path, p: sync_events.read_fitabase(path, p.timezone)),
    Adapter(sync_events.DEVICES_FORMAT, SYNC, sync_events.claims_devices,
            lambda path, p: sync_events.read_devices(path, p.timezone)),
    Adapter(webapi.FORMAT, HEART_RATE, webapi.claims, lambda path, p: webapi.read(path, p.participant_id, p.timezone)),
)


def export_dir(landing_dir: Path | str, participant_id: str) -> Path:
    """Where a coordinator drops a participant's exports (any layout below it, e.g. an unzipped Takeout)."""
    return Path(landing_dir) / participant_id


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
            first = _first_line(path)
            adapter = next((a for a in ADAPTERS if a.claims(path, first)), None)
            if adapter is None:
                ignored.append(path)
            else:
                files.append((adapter, path))
    return FolderScan(tuple(files), tuple(ignored))


def read_heart_rate_days(folder: Path, participant: Participant) -> dict[dt.date, DayExport]:
    """Every heart-rate export in the folder, split into local days. One bad file fails all (nothing staged)."""
    parts = [(adapter.format, path, adapter.read(path, participant)) for adapter, path in scan(folder).of_kind(HEART_RATE)]
    return split_local_days(parts)


def read_sync_events(folder: Path, participant: Participant) -> list[tuple[str, Path, pd.DataFrame]]:
    """(format, file, events) of every sync file in the folder; one bad file fails all."""
    return [(adapter.format, path, adapter.read(path, participant)) for adapter, path in scan(folder).of_kind(SYNC)]


__all__ = ["ADAPTERS", "DayExport", "ExportFormatError", "export_dir", "read_heart_rate_days", "read_sync_events", "scan"]
