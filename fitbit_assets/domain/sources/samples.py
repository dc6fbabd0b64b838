"""What every source adapter produces: local wall-clock samples of one participant, split into local days.

An adapter reads one export file and returns a ``Samples`` frame with columns

* ``local_time``: naive local wall-clock timestamp (the participant's roster timezone), in file order;
* ``bpm``: integer beats per minute;
* ``confidence``: Fitbit's 0-3 sensor confidence (Takeout only; ``<NA>`` elsewhere);
* ``line``: where the sample came from in the file (CSV line or JSON array index), for error messages.

``staging`` turns that into the per-day ``time,value[,confidence]`` CSVs that the one existing validation
(``heart_rate.to_utc_frame`` + Pandera) and the one COPY loader already consume (``union`` orders and merges the
files), so a fall-back day lists its repeated hour twice, in order, as the fold handling expects.
Adapters (the sync-event readers too) read files with ``read_export_csv``/``read_export_json`` and refuse a
file with ``ExportFormatError``, ``reject_rows`` naming the offending rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
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


def check_text(path: Path, payload: bytes) -> None:
    """Refuse bytes that are not whole UTF-8 text: undecodable lines (a latin-1 byte in a UTF-8 export, i.e. mixed
    encodings) and a last line without its line end (a download cut short), naming the lines."""
    lines = payload.split(b"\n")
    if not _utf8(payload):  # only then look for the lines, one by one
        bad = [number for number, line in enumerate(lines, start=1) if not _utf8(line)]
        raise ExportFormatError(path, "not UTF-8 text (mixed encodings? e.g. a latin-1 byte in a UTF-8 file)", bad)
    if payload and not payload.endswith(b"\n"):
        raise ExportFormatError(path, "the last line has no line end: the file looks truncated, download it again",
                                [len(lines)])


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_export_csv(path: Path, header: list[str], csv_name: str, file_name: str) -> tuple[pd.DataFrame, pd.Series]:
    """A Fitabase CSV with exactly ``header``, as text without its blank lines, and each row's line in the file.

    ``csv_name`` (e.g. "Fitabase syncEvents") names the format when the file does not parse, ``file_name`` the
    expected file when the header is wrong.
    """
    payload = Path(path).read_bytes()
    check_text(path, payload)
    try:
        raw = pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ExportFormatError(path, f"empty file, expected a header line {','.join(header)}") from None
    except pd.errors.ParserError as exc:
        raise ExportFormatError(path, f"not a valid {csv_name} CSV ({str(exc).strip()})") from None
    if [c.strip() for c in raw.columns] != header:
        raise ExportFormatError(path, f"header is {list(raw.columns)}, expected {header} ({file_name})")
    raw.columns = header
    raw = raw[(raw != "").any(axis=1)]  # blank lines (the real exports end with one)
    return raw, raw.index.to_series() + 2  # header is line 1; the index counts every data line, blank or not


def check_ids(path: Path | str, ids: pd.Series, line: pd.Series, fitabase_id: str, participant_id: str) -> None:
    """A Fitabase file dropped in a participant's own folder holds only that participant's ``Id``."""
    wrong_id = ids != fitabase_id
    if wrong_id.any():
        found = sorted(set(ids[wrong_id]))[:5]
        raise ExportFormatError(
            path,
            f"Id {found} does not match participant {participant_id!r} of this landing folder "
            f"(its roster fitabase_id is {fitabase_id!r}; put study-wide merged files in landing/fitabase/)",
            line[wrong_id].tolist(),
        )


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
