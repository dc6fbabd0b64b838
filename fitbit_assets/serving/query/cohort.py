"""The cohort overview: per participant the coordinator status (what, since which local day, evidence, action),
last data, last sync and 7-day adherence, most urgent first (rules: fitbit_assets.domain.coordinator_status)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Optional

from fitbit_assets import settings
from fitbit_assets.domain.coordinator_status import (
    ParticipantState,
    StatusDay,
    StatusRules,
    participant_status,
    urgency_key,
)
from fitbit_assets.serving.query.devices import DeviceState, latest_device_states, latest_sync
from fitbit_assets.serving.query.resolution import UTC, as_utc
from fitbit_assets.serving.query.rows import fetch_rows
from fitbit_assets.warehouse.sql_files import sql_query


_known_time_zones: frozenset[str] = frozenset()
_databases_with_day_status: set[str] = set()  # by DSN
NO_DEVICE_STATE = DeviceState("UTC", None, None, None)


def known_time_zones(conn) -> frozenset[str]:
    """The server's time zone names, read once per process (they change only with a server upgrade)."""
    global _known_time_zones
    if not _known_time_zones:
        with conn.cursor() as cur:
            cur.execute(sql_query("api_known_time_zones"))
            _known_time_zones = frozenset(name for (name,) in cur.fetchall())
    return _known_time_zones


def has_day_status(conn) -> bool:
    """Whether the database has the participant_day_status view; once it has, not asked again in this process
    (the schema only adds it)."""
    if conn.dsn not in _databases_with_day_status:
        with conn.cursor() as cur:
            cur.execute(sql_query("api_relation_exists"), {"name": "participant_day_status"})
            if not cur.fetchone()[0]:
                return False
        _databases_with_day_status.add(conn.dsn)
    return True


def status_rules(configured: settings.Settings) -> StatusRules:
    """The study's rules: the valid-day and partial-wear settings (FITBIT_VALID_DAY_MINUTES, FITBIT_PARTIAL_WEAR_*)."""
    return StatusRules(
        valid_day_minutes=configured.valid_day_minutes,
        partial_wear_pct=configured.partial_wear_pct,
        partial_wear_days=configured.partial_wear_days,
    )


def recent_days(conn, last: dt.date, window_days: int, rows: list[dict]) -> dict[str, list[StatusDay]]:
    """participant_id -> classified local days of the ``window_days`` + 1 days up to ``last`` (a UTC date); empty
    when the database read has no participant_day_status view. A participant whose time zone the server does not
    know gets no days (instead of failing the statement for every participant)."""
    if not has_day_status(conn):
        return {}
    with conn.cursor() as cur:
        known = known_time_zones(conn)
        participants = [row["participant_id"] for row in rows if row["timezone"] in known]
        cur.execute(sql_query("api_cohort_days"),
                    {"first": last - dt.timedelta(days=window_days), "last": last, "participants": participants})
        days: dict[str, list[StatusDay]] = defaultdict(list)
        for participant_id, local_date, wear, day_minutes, valid, status in cur.fetchall():
            days[participant_id].append(StatusDay(local_date, wear, day_minutes, valid, status))
        return days


@dataclass(frozen=True)
class CohortData:
    """What the cohort overview reads for the UTC date of its ``as_of``: every participant's row (``api_cohort``,
    with its site), their classified recent days and their device states. Not changed once read, so requests of
    several callers at the same time can share one (``cohort_statuses`` copies the rows it answers with)."""

    rows: list[dict]
    days: dict[str, list[StatusDay]]
    devices: dict[str, DeviceState]


def read_cohort(conn, last: dt.date, window_days: int) -> CohortData:
    rows = fetch_rows(conn, "api_cohort")
    # The device states have their own query, joined in cohort_statuses: the cohort statement stays as it is.
    return CohortData(rows, recent_days(conn, last, window_days, rows), latest_device_states(conn))


def cohort_statuses(
    data: CohortData, as_of: dt.datetime, rules: StatusRules,
    sees_site: Callable[[Optional[str]], bool] = lambda site: True,
) -> list[dict]:
    """Per participant of ``data`` (of the sites ``sees_site`` accepts): the coordinator status at ``as_of`` (UTC)
    and its evidence, last data, last sync, 7-day adherence; most urgent first. Where the device reports its own
    state (device_status), its last sync counts as a sync and its battery is shown (``battery_pct``,
    ``battery_status``) and weighed."""
    ranked = []
    for shared in data.rows:
        row = dict(shared)
        if not sees_site(row.pop("site")):
            continue
        pid = row["participant_id"]
        device = data.devices.get(pid, NO_DEVICE_STATE)
        row.update(last_sync=latest_sync(row["last_sync"], device.last_sync_at), battery_pct=device.battery_pct,
                   battery_status=device.battery_status)
        status = participant_status(
            ParticipantState(
                participant_id=pid, timezone=row["timezone"], enrolled_on=row["enrolled_on"], source=row["source"],
                days=data.days.get(pid, []),
                last_sync=row["last_sync"], last_data=row["last_data"], last_valid_date=row["last_valid_date"],
                consent_state=row["consent_state"], consent_reason=row["consent_reason"],
                consent_changed_at=row["consent_changed_at"], battery_pct=device.battery_pct,
                battery_status=device.battery_status,
            ),
            as_of,
            rules,
        )
        row.update(status=status.status.value, status_words=status.words, since=status.since,
                   evidence=status.evidence, action=status.action)
        ranked.append((urgency_key(status), row))
    return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


def cohort_overview(
    conn, as_of: Optional[dt.datetime] = None, rules: Optional[StatusRules] = None,
    sees_site: Callable[[Optional[str]], bool] = lambda site: True,
) -> list[dict]:
    """``cohort_statuses`` of the cohort as the database holds it now (``as_of`` default now)."""
    as_of = as_utc(as_of or dt.datetime.now(UTC))
    rules = rules or status_rules(settings.load())
    return cohort_statuses(read_cohort(conn, as_of.date(), rules.window_days), as_of, rules, sees_site)
