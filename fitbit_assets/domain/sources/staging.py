"""Stage dropped exports into the day files of the partitions being materialized, incrementally.

Exports of a dataset (heart rate, daily activity, sleep) come from a participant's folder ``landing/<participant>/``
and from the study folder ``landing/fitabase/`` (Fitabase merged files; rows routed by the roster's
``fitabase_id``). Each participant-day's file is the union of every export covering it (``union``), written with a
lineage sidecar listing the files that fed it; the day files then go through the one validation and loader.
The ledger (``export_ledger``) makes it incremental; ``day_files`` builds each day's file.

Bad input never holds back the others: a malformed file stages nothing (its error names file and lines) and the
participant-days it would have fed are held back (reported, previous data kept) so a partial day is never loaded;
a day whose exports conflict is held back the same way; rows of Ids not in the roster are counted per file and Id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fitbit_assets.domain.atomic_files import atomic_write_bytes
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant, Roster
from fitbit_assets.domain.sources import cohort_dir, export_dir
from fitbit_assets.domain.sources.day_files import build_day
from fitbit_assets.domain.sources.export_ledger import ExportFile, ExportLedger, row_days
from fitbit_assets.domain.sources.lineage import Lineage, write_sidecar
from fitbit_assets.domain.sources.union import DayRefused

DayKey = tuple[str, dt.date]  # (participant_id, local_date)


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
        atomic_write_bytes(path, payload)
    write_sidecar(path, lineage, payload)
    result.staged[key] = lineage


def _day_rows(export: ExportFile, participant: Participant, local_date: dt.date, loaded: dict) -> pd.DataFrame:
    """The file's rows of the participant-day; ``loaded`` keeps each file's rows of the participant for the run."""
    if export.path not in loaded:
        rows = pd.read_parquet(export.cache, filters=None if export.owner else [("Id", "==", participant.fitabase_id)])
        loaded[export.path] = (rows, row_days(rows))
    rows, days = loaded[export.path]
    return rows[(days == pd.Timestamp(local_date)).to_numpy()].reset_index(drop=True)
