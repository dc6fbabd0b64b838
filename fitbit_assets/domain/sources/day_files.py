"""Day files: one participant-day's rows from every export covering it -> the bytes of its day file
(``landing/<dataset>/<participant>/<date>.csv|json``, the format the validation and loaders read), its lineage
and the union's counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.sources import ACTIVITY, HEART_RATE, SLEEP, fitabase_daily
from fitbit_assets.domain.sources.export_ledger import ExportFile
from fitbit_assets.domain.sources.lineage import Lineage
from fitbit_assets.domain.sources.union import DayRefused, UnionStats, heart_rate_day, union_rows


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
        return samples_csv_bytes(samples), Lineage(source_format, tuple(stats.files)), stats
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


def samples_csv_bytes(samples: pd.DataFrame) -> bytes:
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
