"""The export ledger: what staging knows of each dropped export file, so that a run parses only new or changed ones.

The ledger lives in the study's state folder (``<parquet store>/_export_staging/``, one JSON entry per export
file, keyed by its path) and remembers each file's size, mtime, sha256, parsed rows (a Parquet cache) and the
participant-days it covers. A run stats the files and parses only new or changed ones (a touched file with the same
sha256 is not parsed again), then reads the cached rows of just the files covering the requested days, so a daily
run's cost does not grow with the number of exports. Crash-safe: the cache file is in place before its entry is
(atomically) replaced, and a missing or unreadable entry or cache only means the file is parsed again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fitbit_assets.domain.atomic_files import atomic_write
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.sources import ADAPTERS, Adapter, claim, fitabase, fitabase_daily
from fitbit_assets.domain.sources.samples import ExportFormatError, check_ids

# Part of every ledger entry: bump it when readers or their frames change, so every export is claimed and parsed again.
LEDGER_VERSION = "2026-11-30"
NO_ID = ""  # covers key of formats without an Id (Takeout, Web API JSON): the folder's participant
# The column a malformed Fitabase file's rows are dated by, to find the days it would have fed.
DATE_COLUMNS = {
    fitabase.FORMAT: "Time",
    fitabase_daily.ACTIVITY_FORMAT: "ActivityDate",
    fitabase_daily.SLEEP_DAY_FORMAT: "SleepDay",
    fitabase_daily.MINUTE_SLEEP_FORMAT: "date",
}


@dataclass
class ExportFile:
    """One export file as the ledger knows it."""

    path: Path
    adapter: Adapter | None
    owner: Participant | None  # the participant of its folder; None in the study folder
    covers: dict[str, dict[str, int]] = field(default_factory=dict)  # Id -> {date: rows}
    error: dict | None = None  # {"reason", "rows"} of a malformed file
    cache: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.owner is not None else f"{self.path.parent.name}/{self.path.name}"

    def days_of(self, participant: Participant) -> set[str]:
        if self.owner is not None:
            return {day for days in self.covers.values() for day in days} if self.owner == participant else set()
        return set(self.covers.get(participant.fitabase_id, {}))


class ExportLedger:
    def __init__(self, state_dir: Path | str):
        self.dir = Path(state_dir)
        self.parsed = 0  # files read and parsed by this ledger (new or changed)
        self.reused = 0  # files known unchanged

    def _entry_path(self, path: Path) -> Path:
        return self.dir / f"{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:24]}.json"

    def _read_entry(self, path: Path) -> dict:
        try:
            return json.loads(self._entry_path(path).read_text())
        except (OSError, ValueError):
            return {}

    def _write_entry(self, path: Path, entry: dict) -> None:
        atomic_write(self._entry_path(path), lambda tmp: tmp.write_text(json.dumps(entry)))

    def file(self, path: Path, owner: Participant | None, dataset: str) -> ExportFile:
        """The file's claim and, when it is of ``dataset``, its parsed rows' coverage: from the ledger if the file
        did not change, else read now."""
        stat = path.stat()
        entry = self._read_entry(path)
        signature = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "version": LEDGER_VERSION}
        if {k: entry.get(k) for k in signature} != signature:
            payload = path.read_bytes()
            sha256 = hashlib.sha256(payload).hexdigest()
            if entry.get("sha256") != sha256 or entry.get("version") != LEDGER_VERSION:  # a mere touch keeps the parse
                adapter = claim(path)
                entry = {"path": str(path), "sha256": sha256, "format": adapter.format if adapter else None}
            entry.update(signature)
            self._write_entry(path, entry)
        adapter = next((a for a in ADAPTERS if a.format == entry.get("format")), None)
        export = ExportFile(path, adapter, owner)
        if adapter is None or adapter.kind != dataset:
            return export
        params = _params(adapter, owner)
        parsed = entry.get("parsed")
        cache = self.dir / parsed["cache"] if parsed and parsed.get("cache") else None
        if parsed is None or parsed.get("params") != params or (cache is not None and not cache.exists()):
            parsed = self._parse(path, adapter, owner, entry)
            entry["parsed"] = {**parsed, "params": params}
            self._write_entry(path, entry)
            self.parsed += 1
            if cache is not None and parsed.get("cache") != cache.name:
                cache.unlink(missing_ok=True)  # the previous version's rows
        else:
            self.reused += 1
        export.covers, export.error = parsed["covers"], parsed.get("error")
        export.cache = self.dir / parsed["cache"] if parsed.get("cache") else None
        return export

    def _parse(self, path: Path, adapter: Adapter, owner: Participant | None, entry: dict) -> dict:
        try:
            rows = read_export(path, adapter, owner)
        except ExportFormatError as exc:
            return {"covers": _guess_covers(path, adapter, owner), "cache": None,
                    "error": {"reason": exc.reason, "rows": [str(r) for r in exc.rows], "message": str(exc)}}
        cache = self.dir / f"{self._entry_path(path).stem}.{entry['sha256'][:16]}.parquet"
        atomic_write(cache, lambda tmp: rows.assign(line=rows["line"].astype(str)).to_parquet(tmp, index=False))
        return {"covers": _covers(rows), "cache": cache.name, "error": None}


def _params(adapter: Adapter, owner: Participant | None) -> str:
    """What else than the bytes a file's parsed rows depend on (a roster change re-parses it)."""
    if owner is None:
        return ""
    return f"{owner.fitabase_id}|{owner.timezone}|{owner.takeout_timestamps}"


def read_export(path: Path, adapter: Adapter, owner: Participant | None) -> pd.DataFrame:
    """The file's rows; ``Id`` is the Fitabase Id (``NO_ID`` for formats without one). In a participant's folder
    every Id must be that participant's ``fitabase_id``."""
    if adapter.read_rows is None:
        if owner is None:
            raise ExportFormatError(path, f"{adapter.format} has no Id column: drop it in the participant's folder")
        return adapter.read(path, owner).assign(Id=NO_ID)
    rows = adapter.read_rows(path)
    if owner is not None:
        check_ids(path, rows["Id"], rows["line"], owner.fitabase_id, owner.participant_id)
    return rows


def row_days(rows: pd.DataFrame) -> pd.Series:
    """The local day each row belongs to (midnight timestamps)."""
    return rows["local_date"] if "local_date" in rows else rows["local_time"].dt.normalize()


def _covers(rows: pd.DataFrame) -> dict[str, dict[str, int]]:
    counts = rows.groupby([rows["Id"], row_days(rows)]).size()
    covers: dict[str, dict[str, int]] = {}
    for (fitabase_id, day), count in counts.items():
        covers.setdefault(fitabase_id, {})[day.date().isoformat()] = int(count)
    return covers


def _guess_covers(path: Path, adapter: Adapter, owner: Participant | None) -> dict[str, dict[str, int]]:
    """Best effort for a malformed Fitabase file: the (Id, date) of every row whose Id and date can be read."""
    column = DATE_COLUMNS.get(adapter.format)
    if column is None:
        return {}
    reader = csv.reader(io.StringIO(path.read_bytes().decode("latin-1")))
    header = [h.strip().lstrip("\ufeff").lstrip("ï»¿") for h in next(reader, [])]
    if "Id" not in header or column not in header:
        return {}
    covers: dict[str, dict[str, int]] = {}
    id_at, date_at = header.index("Id"), header.index(column)
    for row in reader:
        try:
            date = dt.datetime.strptime(row[date_at].strip().split(" ")[0], "%m/%d/%Y").date().isoformat()
        except (IndexError, ValueError):
            continue
        fitabase_id = row[id_at].strip() if owner is None else NO_ID
        covers.setdefault(fitabase_id, {}).setdefault(date, 0)
        covers[fitabase_id][date] += 1
    return covers
