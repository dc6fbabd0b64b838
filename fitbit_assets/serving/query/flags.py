"""The coordinator's flag of one cohort row and the risk order of the cohort table (pure: no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Flags, most urgent first; the cohort table is sorted by risk (flag rank, then 7-day adherence).
# reconsent_needed first: no data can arrive until the participant consents again (Google Health API accounts).
FLAG_RANK = {"reconsent_needed": 0, "no_data": 1, "not_syncing": 2, "non_adherent": 3, "at_risk": 4, "ok": 5}


@dataclass(frozen=True)
class FlagRules:
    sync_stale_hours: float = 48.0  # no device sync for this long -> not_syncing
    non_adherent_invalid_days: int = 2  # invalid days in a row -> non_adherent
    at_risk_adherence_pct: float = 70.0  # trailing 7-day adherence below -> at_risk


def flag_participant(row: dict, as_of: dt.datetime, rules: FlagRules = FlagRules()) -> tuple[str, str]:
    """(flag, reason) of one cohort row. Uses the latest participant_day_status when present."""
    last_sync, last_data = row.get("last_sync"), row.get("last_data")
    if row.get("consent_state") == "reconsent_needed":
        since = row.get("consent_changed_at")
        return "reconsent_needed", (f"re-consent needed since {since:%Y-%m-%d %H:%M} UTC: " if since else
                                    "re-consent needed: ") + (row.get("consent_reason") or "consent withdrawn")
    if last_data is None and row.get("trailing_7d_adherence_pct") is None:
        return "no_data", "no heart rate loaded yet"
    status = row.get("latest_day_status")
    if status == "not_syncing" or (
        last_sync is not None and (as_of - last_sync).total_seconds() > rules.sync_stale_hours * 3600
    ):
        since = f"last sync {last_sync:%Y-%m-%d %H:%M} UTC" if last_sync else "no sync recorded"
        return "not_syncing", since
    invalid = row.get("consecutive_invalid_days") or 0
    if invalid >= rules.non_adherent_invalid_days or status == "not_wearing":
        return "non_adherent", f"{invalid} invalid day(s) in a row"
    pct = row.get("trailing_7d_adherence_pct")
    if invalid > 0 or (pct is not None and pct < rules.at_risk_adherence_pct):
        return "at_risk", f"7-day adherence {pct:.0f}%" if pct is not None else f"{invalid} invalid day"
    return "ok", ""


def risk_key(row: dict) -> tuple:
    pct = row.get("trailing_7d_adherence_pct")
    return (FLAG_RANK.get(row["flag"], 9), pct if pct is not None else -1.0, row["participant_id"])
