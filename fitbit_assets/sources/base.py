"""What every source adapter produces: local wall-clock samples of one participant, split into local days.

An adapter reads one export file and returns a ``Samples`` frame with columns

* ``local_time``: naive local wall-clock timestamp (the participant's roster timezone), in file order;
* ``bpm``: integer beats per minute;
* ``confidence``: Fitbit's 0-3 sensor confidence (Takeout only; ``<NA>`` elsewhere);
* ``line``: where the sample came from in the file (CSV line or JSON array index), for error messages.

``split_local_days`` turns that into the per-day ``time,value[,confidence]`` CSVs that the one existing
validation (``heart_rate.to_utc_frame`` + Pandera) and the one COPY loader already consume. Chronological
order is kept, so a fall-back day lists its repeated hour twice, in order, as the fold handling expects.
Adapters (the sync-event readers too) read files with ``read_export_csv``/``read_export_json`` and refuse a
file with ``ExportFormatError``, ``reject_rows`` naming the offending rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SAMPLE_COLUMNS = ["local_time", "bpm", "confidence", "line"]


class ExportFormatError(ValueError):
    """A dropped export that cannot be loaded; the message names the file and the offending rows."""

    def __init__(self, path: Path | str, reason: str, rows: Sequence[int | str] = ()):
        self.path = str(path)
        self.reason = reason
        self.rows = list(rows)
        super().__init__(f"{self.path}: {reason}{describe_rows(self.rows)}")


def describe_rows(rows: Sequence[int | str], limit: int = 8) -> str:
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f" ({len(rows)} row(s): {shown}{more})"


def reject_rows(path: Path | str, bad: pd.Series, values: pd.Series, rows: pd.Series, expected: str) -> None:
    """Refuse the file if any row is ``bad``: ``expected`` plus the first bad value, then the bad rows."""
    if bad.any():
        raise ExportFormatError(path, f"{expected}, e.g. {values[bad].iloc[0]!r}", rows[bad].tolist())


def read_export_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportFormatError(path, f"not valid JSON ({exc})") from None


def read_export_csv(path: Path, header: list[str], csv_name: str, file_name: str) -> tuple[pd.DataFrame, pd.Series]:
    """A Fitabase CSV with exactly ``header``, as text without its blank lines, and each row's line in the file.

    ``csv_name`` (e.g. "Fitabase syncEvents") names the format when the file does not parse, ``file_name`` the
    expected file when the header is wrong.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ExportFormatError(path, f"empty file, expected a header line {','.join(header)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExportFormatError(path, f"not a valid {csv_name} CSV ({str(exc).strip()})") from None
    if [c.strip() for c in raw.columns] != header:
        raise ExportFormatError(path, f"header is {list(raw.columns)}, expected {header} ({file_name})")
    raw.columns = header
    raw = raw[(raw != "").any(axis=1)]  # blank lines (the real exports end with one)
    return raw, raw.index.to_series() + 2  # header is line 1; the index counts every data line, blank or not


def samples_frame(local_time: pd.Series, bpm: pd.Series, line: pd.Series, confidence: pd.Series | None = None) -> pd.DataFrame:
    """The ``Samples`` frame, in the given order; ``confidence`` only where the format has it."""
    return pd.DataFrame(
        {
            "local_time": local_time.to_numpy(),
            "bpm": bpm.astype("int64").to_numpy(),
            "confidence": (
                pd.array([pd.NA] * len(bpm), dtype="Int16") if confidence is None else confidence.astype("Int16").to_numpy()
            ),
            "line": line.to_numpy(),
        }
    )


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "local_time": pd.Series(dtype="datetime64[ns]"),
            "bpm": pd.Series(dtype="int64"),
            "confidence": pd.Series(dtype="Int16"),
            "line": pd.Series(dtype="object"),
        }
    )


def integer_values(values: pd.Series) -> pd.Series:
    """Strings/numbers -> nullable Int64; anything not a whole number (JSON null and booleans too) becomes <NA>
    (reported by the caller)."""
    values = values.map(lambda v: "" if v is None or isinstance(v, bool) else v)
    numeric = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    whole = numeric.notna() & (numeric == numeric.round())
    return numeric.where(whole).astype("Float64").astype("Int64")


@dataclass(frozen=True)
class DayExport:
    """One local day of one participant cut out of one or more export files of the same format."""

    local_date: dt.date
    source_format: str
    source_files: tuple[str, ...]
    samples: pd.DataFrame

    def csv_bytes(self) -> bytes:
        """``time,value`` (plus ``confidence`` when the format has it), byte-stable like the synthetic CSVs."""
        times = self.samples["local_time"].dt.strftime("%H:%M:%S")
        values = self.samples["bpm"].astype("int64").astype(str)
        confidence = self.samples["confidence"]
        if confidence.notna().any():
            text = confidence.astype("Int64").astype(str).replace("<NA>", "")
            lines = ["time,value,confidence", *(f"{t},{v},{c}" for t, v, c in zip(times, values, text))]
        else:
            lines = ["time,value", *(f"{t},{v}" for t, v in zip(times, values))]
        return ("\n".join(lines) + "\n").encode("ascii")


def split_local_days(parts: Iterable[tuple[str, Path, pd.DataFrame]]) -> dict[dt.date, DayExport]:
    """(format, file, samples) of one participant -> one ``DayExport`` per local date.

    Files are concatenated in order of their first sample; a day fed by two different formats is refused
    (two exports of the same day disagree about what is truth - keep one).
    """
    by_day: dict[dt.date, list[tuple[str, Path, pd.DataFrame]]] = {}
    for source_format, path, samples in parts:
        if samples.empty:
            continue
        dates = samples["local_time"].dt.date
        for local_date, day_samples in samples.groupby(dates, sort=True):
            by_day.setdefault(local_date, []).append((source_format, path, day_samples))
    days: dict[dt.date, DayExport] = {}
    for local_date, pieces in sorted(by_day.items()):
        formats = sorted({fmt for fmt, _, _ in pieces})
        if len(formats) > 1:
            files = sorted(str(p) for _, p, _ in pieces)
            raise ExportFormatError(
                files[0],
                f"local day {local_date} is covered by exports of different formats {formats} "
                f"(files {files}); keep only one export per day",
            )
        pieces.sort(key=lambda piece: (piece[2]["local_time"].iloc[0], str(piece[1])))
        days[local_date] = DayExport(
            local_date,
            formats[0],
            tuple(dict.fromkeys(p.name for _, p, _ in pieces)),
            pd.concat([s for _, _, s in pieces], ignore_index=True),
        )
    return days
