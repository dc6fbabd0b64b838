"""The cohort overview: per participant last data, last sync, 7-day adherence and a flag, most urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fitbit_assets.serving.query.flags import FlagRules, flag_participant, risk_key
from fitbit_assets.serving.query.resolution import UTC, as_utc
from fitbit_assets.serving.query.rows import fetch_rows
from fitbit_assets.warehouse.sql_files import sql_query


_known_time_zones: frozenset[str] = frozenset()


def known_time_zones(conn) -> frozenset[str]:
    """The server's time zone names, read once per process (they change only with a server upgrade)."""
    global _known_time_zones
    if not _known_time_zones:
        with conn.cursor() as cur:
            cur.execute(sql_query("api_known_time_zones"))
            _known_time_zones = frozenset(name for (name,) in cur.fetchall())
    return _known_time_zones


def latest_day_status(conn, as_of: dt.datetime, rows: list[dict]) -> dict[str, tuple[dt.date, str]]:
    """participant_id -> (local date, status) of the latest participant_day_status in the 7 days before
    yesterday; empty when the database read has no participant_day_status view. A participant whose time zone
    the server does not know gets no status (instead of failing the statement for every participant)."""
    with conn.cursor() as cur:
        cur.execute(sql_query("api_relation_exists"), {"name": "participant_day_status"})
        if not cur.fetchone()[0]:
            return {}
        known = known_time_zones(conn)
        participants = [row["participant_id"] for row in rows if row["timezone"] in known]
        last = (as_of - dt.timedelta(days=1)).date()
        cur.execute(sql_query("api_latest_day_status"),
                    {"first": last - dt.timedelta(days=7), "last": last, "participants": participants})
        return {pid: (day, status) for pid, day, status in cur.fetchall()}


def cohort_overview(conn, as_of: Optional[dt.datetime] = None, rules: FlagRules = FlagRules()) -> list[dict]:
    """Per participant: last data, last sync, 7-day adherence, flag; sorted by risk (most urgent first)."""
    as_of = as_utc(as_of or dt.datetime.now(UTC))
    rows = fetch_rows(conn, "api_cohort")
    status = latest_day_status(conn, as_of, rows)
    for row in rows:
        row["latest_status_date"], row["latest_day_status"] = status.get(row["participant_id"], (None, None))
        row["flag"], row["flag_reason"] = flag_participant(row, as_of, rules)
    return sorted(rows, key=risk_key)
