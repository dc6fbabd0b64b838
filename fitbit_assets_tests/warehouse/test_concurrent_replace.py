"""Two loads replacing the same participant-day at the same time, on plain PostgreSQL and on TimescaleDB.

Two runs of the same partition (a retry next to a manual re-run, two overlapping backfills) both call
``replace_rows`` for the same day. The day must end with exactly one load's rows: the one that commits last.
"""

import datetime as dt
import threading
import time

import pandas as pd
import psycopg2

from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.warehouse.copy_text import HEART_RATE_COLUMNS
from fitbit_assets.warehouse.days import create_heart_rate_partitions, replace_rows
from fitbit_assets.warehouse.schema import apply_schema

DAY = LocalDay(dt.date(2025, 6, 10), "Europe/Berlin")
PARTICIPANT = "p1"


def day_frame(offset_s: int, bpm: int, rows: int = 2_000) -> pd.DataFrame:
    """``rows`` samples every 5 s from ``offset_s`` into the day: two loads with different offsets share no
    timestamp, so without serialization both would insert (no primary-key conflict to stop the second)."""
    ts = DAY.start_utc + pd.to_timedelta([offset_s + 5 * i for i in range(rows)], unit="s")
    return pd.DataFrame({"participant_id": PARTICIPANT, "ts": ts, "bpm": pd.array([bpm] * rows, dtype="int16")})


def waiting_on_a_lock(dsn: str, backend_pid: int) -> bool:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (backend_pid,))
            row = cur.fetchone()
            return row is not None and row[0] == "Lock"
    finally:
        conn.close()


def test_two_concurrent_replaces_of_one_day_leave_exactly_the_last_loads_rows(backend_dsn):
    first_load, second_load = day_frame(0, 61), day_frame(1, 99)
    setup = psycopg2.connect(backend_dsn)
    apply_schema(setup)
    create_heart_rate_partitions(setup, DAY.start_utc, DAY.end_utc)
    setup.close()
    first_inside = threading.Event()
    second_done = threading.Event()
    second_pid: list[int] = []
    results: dict[str, tuple[int, int] | BaseException] = {}

    def hold_until_the_second_load_blocks_or_finishes(cur, inserted):
        # The first load has deleted and copied but not committed: let the second one start now and keep this
        # transaction open until the second is blocked behind it (the fix) or has finished (the bug).
        first_inside.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not second_done.is_set():
            if second_pid and waiting_on_a_lock(backend_dsn, second_pid[0]):
                return
            time.sleep(0.05)

    def load(name, frame, hook=None):
        conn = psycopg2.connect(backend_dsn)
        try:
            if name == "second":
                second_pid.append(conn.get_backend_pid())
            results[name] = replace_rows(
                conn, "heart_rate", HEART_RATE_COLUMNS, frame, PARTICIPANT, DAY, by="ts", in_transaction=hook
            )
        except BaseException as exc:  # reported by the assertions below, not lost in the thread
            results[name] = exc
        finally:
            conn.close()
            if name == "second":
                second_done.set()

    first = threading.Thread(target=load, args=("first", first_load, hold_until_the_second_load_blocks_or_finishes))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=load, args=("second", second_load))
    second.start()
    first.join(60)
    second.join(60)

    assert results == {"first": (0, len(first_load)), "second": (len(first_load), len(second_load))}
    rows = fetch_all(backend_dsn, "SELECT ts, bpm FROM heart_rate WHERE participant_id = %s ORDER BY ts", (PARTICIPANT,))
    assert [(pd.Timestamp(ts), bpm) for ts, bpm in rows] == list(zip(second_load["ts"], second_load["bpm"]))
