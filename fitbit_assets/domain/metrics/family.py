"""What every metric family shares: the family description, JSON reading, local-time conversion, validation.

A family is one Fitbit Web API endpoint shape turned into one validated frame, one
Parquet file and one table per participant-day. Shape errors (not JSON, wrong keys, wrong nesting) raise
``MetricFileError`` naming the file; value errors (range, duplicates, wrong date) are Pandera rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pandera.pandas as pa

from fitbit_assets.domain.local_days import LocalDay, fall_back_fold
from fitbit_assets.domain.roster import Participant
from fitbit_assets.domain.validation import ValidationReport


class MetricFileError(ValueError):
    """A metric file that is not the expected JSON shape at all; nothing of it is loaded."""


@dataclass(frozen=True)
class MetricFamily:
    name: str  # landing/<name>/<participant>/<date>.json, parquet/<name>/..., asset names
    table: str
    columns: tuple[str, ...]  # table columns, in COPY order
    integer_columns: tuple[str, ...]  # float in the validated frame (so bad values surface), integer in the table
    model: type[pa.DataFrameModel]
    generate: Callable[[Participant, dt.date], object]  # synthetic Web-API-shaped JSON document
    parse: Callable[[object, str, LocalDay], pd.DataFrame]  # JSON document -> frame (raises MetricFileError)
    window: Callable[[LocalDay], tuple[pd.Timestamp, pd.Timestamp]] | None  # allowed UTC range of ts, if any
    title: str
    source: str  # Web API endpoint mirrored
    # Another family whose landing files this one reads (one Web API document loaded into two tables, e.g. sleep's
    # nightly totals and its minute states): no landing asset of its own. None: landing/<name>/.
    landing: str | None = None

    @property
    def landing_name(self) -> str:
        return self.landing or self.name

    def schema(self, day: LocalDay) -> pa.DataFrameSchema:
        """The family's model plus the day-specific rules: the file's date is the partition's date, and
        intraday timestamps fall inside the family's window for that day."""
        schema = self.model.to_schema()
        partition_date = pd.Timestamp(day.local_date)
        is_day = pa.Check(lambda d: d.isna() | (d == partition_date), name=f"is_partition_date({day.local_date})")
        schema = schema.update_column("local_date", checks=[*schema.columns["local_date"].checks, is_day])
        if self.window is not None:
            start, end = self.window(day)
            inside = pa.Check(lambda ts: ts.isna() | ((ts >= start) & (ts < end)), name="inside_window")
            schema = schema.update_column("ts", checks=[*schema.columns["ts"].checks, inside])
        return schema

    def to_warehouse_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        # Column by column: DataFrame.astype(dict) copies every column, ~2.5 ms a participant-day for nothing.
        if not self.integer_columns:
            return frame
        converted = frame.copy(deep=False)
        for column in self.integer_columns:
            converted[column] = converted[column].astype("Int64")
        return converted


def load_json(path: Path) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MetricFileError(f"{path}: not UTF-8 text ({exc})") from None
    if not text.strip():
        raise MetricFileError(f"{path}: empty file, expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetricFileError(f"{path}: not valid JSON ({exc})") from None


def read_metric_file(family: MetricFamily, path: Path, participant_id: str, day: LocalDay) -> pd.DataFrame:
    """Parse one landing file into the family's frame; every shape error names the file."""
    document = load_json(path)
    try:
        return family.parse(document, participant_id, day)
    except MetricFileError as exc:
        raise MetricFileError(f"{path}: {exc}") from None


def entries(document: object, key: str) -> list[dict]:
    """The list under ``key`` of a Web API response (``{"<key>": [ {...}, ... ]}``), each entry an object."""
    if not isinstance(document, dict) or key not in document:
        got = f"keys {sorted(document)[:5]}" if isinstance(document, dict) else type(document).__name__
        raise MetricFileError(f'expected a JSON object with a list under "{key}", got {got}')
    items = document[key]
    if not isinstance(items, list):
        raise MetricFileError(f'"{key}" must be a list, got {type(items).__name__}')
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MetricFileError(f'"{key}"[{index}] must be an object, got {type(item).__name__}')
    return items


def intraday_minutes(document: object, key: str) -> Iterator[tuple[str, str, dict]]:
    """Each minute of ``{"<key>": [{"dateTime", "minutes": [{"minute", "value": {...}}]}]}`` as (where, its
    entry's dateTime, the minute object)."""
    for index, entry in enumerate(entries(document, key)):
        where = f'"{key}"[{index}]'
        date = field(entry, "dateTime", where, str)
        for m, minute in enumerate(field(entry, "minutes", where, list)):
            if not isinstance(minute, dict) or "minute" not in minute or not isinstance(minute.get("value"), dict):
                raise MetricFileError(f'{where}.minutes[{m}] must be an object with "minute" and a "value" object')
            yield f"{where}.minutes[{m}]", date, minute


def field(obj: dict, name: str, where: str, kind: type | tuple = dict):
    if name not in obj:
        raise MetricFileError(f'{where} lacks "{name}"')
    value = obj[name]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise MetricFileError(f'{where}."{name}" must be {expected}, got {type(value).__name__}')
    return value


def number(value) -> float:
    """A JSON number as float; anything else (string, null, bool) becomes NaN so validation reports the row."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return np.nan
    return float(value)


def optional_number(value, where: str) -> float:
    """An optional JSON number (absent/null -> NaN); any other type is a shape error."""
    if value is None:
        return np.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricFileError(f"{where} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def local_dates(values: list) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object).astype(str), format="%Y-%m-%d", errors="coerce")


def local_to_utc(local_time: pd.Series, timezone: str) -> pd.Series:
    """Chronological local wall-clock times -> UTC (repeated fall-back hour resolved by order, gap -> NaT)."""
    zone = ZoneInfo(timezone)
    ts = local_time.dt.tz_localize(zone, ambiguous=fall_back_fold(local_time, zone), nonexistent="NaT")
    return ts.dt.tz_convert("UTC").astype(pd.DatetimeTZDtype(unit="ns", tz="UTC"))


def parse_local_times(values: list, date_strings: list) -> pd.Series:
    """Minute stamps as the API gives them: full local ISO (``2021-10-25T08:05:00[.000]``) or ``HH:MM[:SS]``
    relative to the entry's ``dateTime``. Unparseable -> NaT (reported by validation)."""
    text = pd.Series(values, dtype=object).astype(str).str.strip()
    dates = pd.Series(date_strings, dtype=object).astype(str)
    clock_only = text.str.fullmatch(r"\d{2}:\d{2}(:\d{2})?")
    text = text.where(~clock_only, dates + "T" + text)
    text = text.str.replace(r"\.\d+$", "", regex=True)
    out = pd.to_datetime(text, format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    short = out.isna() & text.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    if short.any():
        out[short] = pd.to_datetime(text[short], format="%Y-%m-%dT%H:%M", errors="coerce")
    return out.astype("datetime64[ns]")


def intraday_frame(
    participant_id: str, stamps: list, dates: list, day: LocalDay, values: dict[str, pd.Series]
) -> pd.DataFrame:
    """An intraday family's frame: participant_id, ts (UTC from the local minute stamps), local_date, values."""
    return pd.DataFrame(
        {
            "participant_id": pd.Series([participant_id] * len(stamps), dtype=str),
            "ts": local_to_utc(parse_local_times(stamps, dates), day.timezone),
            "local_date": local_dates(dates),
            **values,
        }
    )


def daily_frame(rows: list[dict], value_columns: Sequence[str]) -> pd.DataFrame:
    """A daily family's frame from rows of participant_id, the entry's ``date`` and the values (as float)."""
    frame = pd.DataFrame(rows, columns=["participant_id", "date", *value_columns])
    frame.insert(1, "local_date", local_dates(frame["date"].tolist()))
    return frame.drop(columns="date").astype({c: "float64" for c in value_columns}).astype({"participant_id": str})


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def _json_safe(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def validate_frame(schema: pa.DataFrameSchema, frame: pd.DataFrame, max_samples: int = 10) -> ValidationReport:
    """Run the schema lazily; failures are counted per rule (``column.check``) with a few failing rows."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        # Frame-wide checks come back once per column: report them once, as "frame.<check>".
        frame_wide = (cases["schema_context"] == "DataFrameSchema") & (cases["check"] != "column_in_dataframe")
        column = cases["column"].where(~frame_wide, None).fillna("frame").astype(str)
        cases = cases.assign(rule=column + "." + cases["check"].astype(str))
        failures = {}
        for rule, group in cases.groupby("rule", sort=True):
            indexes = group["index"].dropna()
            failures[rule] = int(indexes.nunique()) if len(indexes) else len(group)
        samples = []
        for rule, group in cases.groupby("rule", sort=True):
            indexes = group["index"].dropna().drop_duplicates()
            if indexes.empty:
                samples.append({"rule": rule, "failure": str(group["failure_case"].iloc[0])})
            for index in indexes.head(max_samples).astype(int):
                row = frame.loc[index]
                samples.append({"rule": rule, "row": int(index), **{k: _json_safe(v) for k, v in row.items()}})
        return ValidationReport(len(frame), failures, samples)
    return ValidationReport(len(frame))


def validate_frames(family: MetricFamily, frames: Sequence[tuple[LocalDay, pd.DataFrame]]) -> list[ValidationReport]:
    """Each frame's report, exactly what ``validate_frame(family.schema(day), frame)`` gives.

    A Pandera call costs about as much for one row as for a thousand, and a run validates hundreds of
    participant-days of each family: frames of the same columns and dtypes are screened together in one call (the
    day rules and uniqueness held per frame), and only a frame the screen finds failing is validated alone, for
    its own report. Every rule is row-wise, so a frame passes the screen exactly when it passes alone."""
    reports: list[ValidationReport | None] = [None] * len(frames)
    groups: dict[tuple, list[int]] = {}
    for position, (_, frame) in enumerate(frames):
        if len(frame):  # an empty frame's dtypes may differ from the others': validated alone (no rows, cheap)
            groups.setdefault(tuple(frame.dtypes.items()), []).append(position)
    for members in groups.values():
        if len(members) > 1:
            failing = _screen(family, [frames[position] for position in members])
            for index, position in enumerate(members):
                if index not in failing:
                    reports[position] = ValidationReport(len(frames[position][1]))
    return [report or validate_frame(family.schema(day), frame) for report, (day, frame) in zip(reports, frames)]


def _screen(family: MetricFamily, frames: Sequence[tuple[LocalDay, pd.DataFrame]]) -> set[int]:
    """Positions of the frames with a row failing the family's rules, all of them when a failure names no row."""
    lengths = [len(frame) for _, frame in frames]
    batch = pd.concat([frame for _, frame in frames], ignore_index=True)
    part = pd.Series(np.repeat(np.arange(len(frames)), lengths))
    schema = family.model.to_schema()
    for name, column in schema.columns.items():
        if column.unique:  # unique within its own frame, not across participants and days
            per_frame = pa.Check(
                lambda values: ~pd.DataFrame({"part": part.reindex(values.index), "value": values}).duplicated(keep=False),
                name="unique_in_its_frame", ignore_na=False,
            )
            schema = schema.update_column(name, unique=False, checks=[*column.checks, per_frame])
    dates = pd.Series(pd.DatetimeIndex([pd.Timestamp(day.local_date) for day, _ in frames]).repeat(lengths))
    is_day = pa.Check(lambda values: values.isna() | (values == dates.reindex(values.index)), name="is_partition_date",
                      ignore_na=False)
    schema = schema.update_column("local_date", checks=[*schema.columns["local_date"].checks, is_day])
    if family.window is not None:
        windows = [family.window(day) for day, _ in frames]
        starts = pd.Series(pd.DatetimeIndex([start for start, _ in windows]).repeat(lengths))
        ends = pd.Series(pd.DatetimeIndex([end for _, end in windows]).repeat(lengths))
        inside = pa.Check(
            lambda ts: ts.isna() | ((ts >= starts.reindex(ts.index)) & (ts < ends.reindex(ts.index))),
            name="inside_window", ignore_na=False,
        )
        schema = schema.update_column("ts", checks=[*schema.columns["ts"].checks, inside])
    try:
        schema.validate(batch, lazy=True)
    except pa.errors.SchemaErrors as errors:
        rows = errors.failure_cases["index"]
        if rows.isna().any():
            return set(range(len(frames)))
        return set(part.iloc[rows.astype(int).unique()].tolist())
    return set()


def sleep_window(day: LocalDay) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Main sleep attached to its wake-up date: it may start at noon the day before and ends within the day."""
    previous = LocalDay(day.local_date - dt.timedelta(days=1), day.timezone)
    return previous.start_utc + pd.Timedelta(hours=12), day.end_utc


def local_day_window(day: LocalDay) -> tuple[pd.Timestamp, pd.Timestamp]:
    return day.start_utc, day.end_utc
