"""Split a participant's dropped exports into the day CSVs of the partitions being materialized."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from fitbit_assets.roster import Participant
from fitbit_assets.sources import export_dir, read_heart_rate_days
from fitbit_assets.sources.lineage import Lineage, write_sidecar


def stage_heart_rate_days(
    landing_dir: Path | str,
    participant: Participant,
    dates: Iterable[dt.date],
    day_csv_path: Callable[[dt.date], Path],
) -> dict[dt.date, Lineage]:
    """Write ``day_csv_path(date)`` (+ lineage sidecar) for each requested date an export covers.

    Every export of the participant is parsed before anything is written, so a malformed file raises
    ``ExportFormatError`` (naming file and rows) and stages nothing. Days no export covers are left alone
    (a hand-dropped day CSV keeps working).
    """
    days = read_heart_rate_days(export_dir(landing_dir, participant.participant_id), participant)
    staged: dict[dt.date, Lineage] = {}
    for local_date in sorted(set(dates)):
        day = days.get(local_date)
        if day is None:
            continue
        path = day_csv_path(local_date)
        payload = day.csv_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, path)
        lineage = Lineage(day.source_format, day.source_files)
        write_sidecar(path, lineage, payload)
        staged[local_date] = lineage
    return staged
