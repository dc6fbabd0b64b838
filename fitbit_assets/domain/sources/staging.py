"""Stage dropped exports into the day files of the partitions being materialized, incrementally.

Exports of a dataset (heart rate, daily activity, sleep) come from a participant's folder ``landing/<participant>/``
and from the study folder ``landing/fitabase/`` (Fitabase merged files; rows routed by the roster's
``fitabase_id``). Each participant-day's file is the union of every export covering it (``union``), written with a
lineage sidecar listing the files that fed it; the day files then go through the one validation and loader.

Incremental: a ledger in the study's state folder (``<parquet store>/_export_staging/``, one JSON entry per export
file, keyed by its path) remembers each file's size, mtime, sha256, parsed rows (a Parquet cache) and the
participant-days it covers. A run stats the files and parses only new or changed ones (a touched file with the same
sha256 is not parsed again), then reads the cached rows of just the files covering the requested days, so a daily
run's cost does not grow with the number of exports. Crash-safe: the cache file is in place before its entry is
(atomically) replaced, and a missing or unreadable entry or cache only means the file is parsed again.

Bad input never holds back the others: a malformed file stages nothing (its error names file and lines) and the
participant-days it would have fed are held back (reported, previous data kept) so a partial day is never loaded;
a day whose exports conflict is held back the same way; rows of Ids not in the roster are counted per file and Id.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant, Roster
from fitbit_assets.domain.sources import (
    ACTIVITY,
    ADAPTERS,
    HEART_RATE,
    SLEEP,
    Adapter,
    claim,
    cohort_dir,
    export_dir,
    fitabase,
    fitabase_daily,
)
from fitbit_assets.domain.sources.base import ExportFormatError, check_ids
from fitbit_assets.domain.sources.lineage import Lineage, write_sidecar
from fitbit_assets.domain.sources.union import DayRefused, UnionStats, heart_rate_day, union_rows

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
DayKey = tuple[str, dt.date]  # (participant_id, local_date)


# ---- ledger ---------------------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


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
        _atomic_write(self._entry_path(path), lambda tmp: tmp.write_text(json.dumps(entry)))

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
        _atomic_write(cache, lambda tmp: rows.assign(line=rows["line"].astype(str)).to_parquet(tmp, index=False))
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


def _row_days(rows: pd.DataFrame) -> pd.Series:
    """The local day each row belongs to (midnight timestamps)."""
    return rows["local_date"] if "local_date" in rows else rows["local_time"].dt.normalize()


def _covers(rows: pd.DataFrame) -> dict[str, dict[str, int]]:
    counts = rows.groupby([rows["Id"], _row_days(rows)]).size()
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


# ---- staging --------------------------------------------------------------------------------------------------


@dataclass
class StagingResult:
    staged: dict[DayKey, Lineage] = field(default_factory=dict)
    unchanged: list[DayKey] = field(default_factory=list)  # day file already held exactly these rows
    held_back: dict[DayKey, tuple[str, str]] = field(default_factory=dict)  # -> (rule, message)
    file_errors: list[str] = field(default_factory=list)
    unknown_ids: list[dict] = field(default_factory=list)  # {"file", "Id", "rows"}
    duplicates_dropped: dict[str, int] = field(default_factory=dict)  # "participant/date" -> rows
    overlapping_rows: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    files_parsed: int = 0
    files_unchanged: int = 0


def _files_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def stage_days(
    dataset: str,
    landing_dir: Path | str,
    state_dir: Path | str,
    roster: Roster,
    wanted: dict[str, Iterable[dt.date]],
    day_path: Callable[[str, dt.date], Path],
) -> StagingResult:
    """Write ``day_path(participant, date)`` (+ lineage sidecar) for each wanted participant-day an export covers.

    ``wanted``: source=landing participant -> dates. Days no export covers are left alone (a hand-dropped day file
    keeps working; a day whose only export was removed keeps its last staged file).
    """
    ledger = ExportLedger(state_dir)
    result = StagingResult()
    known = {p.fitabase_id for p in roster.participants}
    cohort: list[ExportFile] = []
    for path in _files_in(cohort_dir(landing_dir)):
        export = ledger.file(path, None, dataset)
        if export.adapter is None:
            result.ignored.append(export.name)
        elif export.adapter.kind == dataset:
            cohort.append(export)
            for fitabase_id in sorted(set(export.covers) - known):
                rows = sum(export.covers[fitabase_id].values())
                result.unknown_ids.append({"file": export.name, "Id": fitabase_id, "rows": rows})
    reported: set[str] = set()
    for participant_id, dates in sorted(wanted.items()):
        participant = roster.get(participant_id)
        own = []
        for path in _files_in(export_dir(landing_dir, participant_id)):
            export = ledger.file(path, participant, dataset)
            if export.adapter is None:
                result.ignored.append(f"{participant_id}/{export.name}")
            elif export.adapter.kind == dataset:
                own.append(export)
        exports = [e for e in own + cohort if e.days_of(participant)]
        for export in exports:
            if export.error and export.name not in reported:
                reported.add(export.name)
                result.file_errors.append(export.error["message"])
        loaded: dict = {}  # each file's rows of this participant, read once for all their days
        for local_date in sorted(set(dates)):
            _stage_day(dataset, participant, local_date, exports, day_path, result, loaded)
    for export in cohort:  # a malformed study file is reported even when no wanted day is in it
        if export.error and export.name not in reported:
            reported.add(export.name)
            result.file_errors.append(export.error["message"])
    result.files_parsed, result.files_unchanged = ledger.parsed, ledger.reused
    return result


def _stage_day(
    dataset: str, participant: Participant, local_date: dt.date, exports: list[ExportFile],
    day_path: Callable[[str, dt.date], Path], result: StagingResult, loaded: dict,
) -> None:
    key = (participant.participant_id, local_date)
    feeding = [e for e in exports if local_date.isoformat() in e.days_of(participant)]
    if not feeding:
        return
    broken = [e for e in feeding if e.error]
    if broken:
        result.held_back[key] = ("export.readable", "; ".join(e.error["message"] for e in broken)
                                 + " (the day is not staged from the other exports until this file is fixed)")
        return
    pieces = [(e, _day_rows(e, participant, local_date, loaded)) for e in feeding]
    try:
        payload, lineage, stats = build_day(dataset, pieces, LocalDay(local_date, participant.timezone))
    except DayRefused as exc:
        result.held_back[key] = (exc.rule, str(exc))
        return
    label = f"{participant.participant_id}/{local_date}"
    if stats.duplicates_in_file:
        result.duplicates_dropped[label] = stats.duplicates_in_file
    if stats.overlapping_rows:
        result.overlapping_rows[label] = stats.overlapping_rows
    path = day_path(participant.participant_id, local_date)
    if path.exists() and path.read_bytes() == payload:
        result.unchanged.append(key)
    else:
        _atomic_write(path, lambda tmp: tmp.write_bytes(payload))
    write_sidecar(path, lineage, payload)
    result.staged[key] = lineage


def _day_rows(export: ExportFile, participant: Participant, local_date: dt.date, loaded: dict) -> pd.DataFrame:
    """The file's rows of the participant-day; ``loaded`` keeps each file's rows of the participant for the run."""
    if export.path not in loaded:
        rows = pd.read_parquet(export.cache, filters=None if export.owner else [("Id", "==", participant.fitabase_id)])
        loaded[export.path] = (rows, _row_days(rows))
    rows, row_days = loaded[export.path]
    return rows[(row_days == pd.Timestamp(local_date)).to_numpy()].reset_index(drop=True)


def build_day(
    dataset: str, pieces: list[tuple[ExportFile, pd.DataFrame]], day: LocalDay
) -> tuple[bytes, Lineage, UnionStats]:
    """One participant-day's rows from every export covering it -> the day file's bytes, lineage and counts."""
    from fitbit_assets.domain.metrics.files import document_bytes  # the metric families' fixed JSON formatting

    by_format: dict[str, list[tuple[str, pd.DataFrame]]] = {}
    for export, rows in sorted(pieces, key=lambda piece: piece[0].name):
        by_format.setdefault(export.adapter.format, []).append((export.name, rows))
    if dataset == HEART_RATE:
        if len(by_format) > 1:
            files = [name for named in by_format.values() for name, _ in named]
            raise DayRefused("export.mixed_formats", f"local day {day.local_date} is covered by exports of different "
                             f"formats {sorted(by_format)} (files {files}); keep only one export per day", files)
        [(source_format, named)] = by_format.items()
        samples, stats = heart_rate_day(named, day)
        return heart_rate_csv_bytes(samples), Lineage(source_format, tuple(stats.files)), stats
    if dataset == ACTIVITY:
        named = by_format[fitabase_daily.ACTIVITY_FORMAT]
        rows, stats = union_rows(named, ["local_date"], fitabase_daily.ACTIVITY_HEADER[2:])
        document = fitabase_daily.activity_document(rows.iloc[0])
        return document_bytes(document), Lineage(fitabase_daily.ACTIVITY_FORMAT, tuple(stats.files)), stats
    if dataset == SLEEP:
        minutes = by_format.get(fitabase_daily.MINUTE_SLEEP_FORMAT)
        if minutes:  # minute data gives the logs; the day totals then are their sums
            rows, stats = union_rows(minutes, ["logId", "local_time"], ["value"])
            document = fitabase_daily.sleep_document(rows, None)
            source_format = fitabase_daily.MINUTE_SLEEP_FORMAT
        else:
            named = by_format[fitabase_daily.SLEEP_DAY_FORMAT]
            rows, stats = union_rows(named, ["local_date"], fitabase_daily.SLEEP_DAY_VALUES)
            document = fitabase_daily.sleep_document(None, rows.iloc[0])
            source_format = fitabase_daily.SLEEP_DAY_FORMAT
        return document_bytes(document), Lineage(source_format, tuple(stats.files)), stats
    raise ValueError(f"no export staging for dataset {dataset!r}")


_CLOCK = np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)])


def heart_rate_csv_bytes(samples: pd.DataFrame) -> bytes:
    """``time,value`` (plus ``confidence`` when the format has it), byte-stable like the synthetic CSVs."""
    local_time = samples["local_time"]
    seconds = (local_time - local_time.dt.normalize()).dt.total_seconds().astype("int64").to_numpy()
    times = _CLOCK[seconds]  # strftime took most of the staging time
    values = samples["bpm"].astype("int64").astype(str)
    confidence = samples["confidence"]
    if confidence.notna().any():
        text = confidence.astype("Int64").astype(str).replace("<NA>", "")
        lines = ["time,value,confidence", *(f"{t},{v},{c}" for t, v, c in zip(times, values, text))]
    else:
        lines = ["time,value", *(f"{t},{v}" for t, v in zip(times, values))]
    return ("\n".join(lines) + "\n").encode("ascii")
