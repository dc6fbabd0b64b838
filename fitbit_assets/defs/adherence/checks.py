"""Check on daily adherence: each participant-day is a valid wear day (WARN).

It reports one result per participant-day (check_reporting.py), which the UI shows in the check's partition
view and the alert sensor reads one by one.
"""


from collections import defaultdict

import dagster as dg

from fitbit_assets.defs.adherence.assets import daily_adherence
from fitbit_assets.domain.adherence import DayAdherence, non_adherence_reason
from fitbit_assets.domain.coordinator_status import status_words
from fitbit_assets.domain.device_sync import DayStatus, status_explanation
from fitbit_assets.lib.check_metadata import DAY_STATUS, DAY_STATUS_UNKNOWN, REASON, VALID_DAY_CHECK
from fitbit_assets.lib.check_reporting import DayResult, report_day_results
from fitbit_assets.lib.partitions import ParticipantDayKey, local_day_partitions, participant_days
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.sql_files import sql_query

# The reason of an invalid day the sync rule has not classified yet (alert kind non_adherent, "not a valid wear day").
UNCLASSIFIED_DAY = (f"not a valid wear day so far: the local day has not ended, so {status_words(DayStatus.NOT_WEARING)} "
                    f"or {status_words(DayStatus.NOT_SYNCING)} is not told yet")


def _day_from_row(row: dict) -> DayAdherence:
    return DayAdherence(
        day_minutes=row["day_minutes"],
        wear_minutes=row["wear_minutes"],
        adherence_pct=row["adherence_pct"],
        longest_gap_minutes=row["longest_gap_minutes"],
        gap_count=row["gap_count"],
        valid_day=row["valid_day"],
        imputed_minutes=row["imputed_minutes"],
        samples=row["samples"],
    )


def _add_day_status(cur, non_adherent: list[tuple[ParticipantDayKey, dict]]) -> None:
    """Tell "not wearing" from "not syncing" (view participant_day_status, fed by device_sync) in each invalid
    day's metadata and reason, so the alert asks the participant for the right thing."""
    days_by_participant: dict[str, list[tuple[ParticipantDayKey, dict]]] = defaultdict(list)
    for key, metadata in non_adherent:
        days_by_participant[key.participant_id].append((key, metadata))
    for participant_id, days in days_by_participant.items():
        dates = [key.local_date.isoformat() for key, _ in days]
        cur.execute(sql_query("participant_day_status"), {"participant_id": participant_id, "first": min(dates), "last": max(dates)})
        columns = [c.name for c in cur.description]
        statuses = {row["local_date"]: row for row in (dict(zip(columns, r)) for r in cur.fetchall())}
        for key, entry in days:
            status = statuses.get(key.local_date)
            if status is None:  # the view classifies days up to the participant's local yesterday only
                entry[REASON] = f"{UNCLASSIFIED_DAY}; {entry[REASON]}"
                continue
            if status["status"] == DayStatus.OK:
                continue
            entry[DAY_STATUS] = status["status"] if status["sync_data_available"] else DAY_STATUS_UNKNOWN
            entry["last_sync_at"] = status["last_sync_at"].isoformat() if status["last_sync_at"] else None
            explanation = status_explanation(
                status["status"], status["first_sync_after_day_end"], status["last_sync_at"], status["sync_data_available"]
            )
            entry[REASON] = f"{explanation}; {entry[REASON]}"


@dg.asset_check(
    name=VALID_DAY_CHECK,
    asset=daily_adherence,
    partitions_def=local_day_partitions,
    description="WARN when a participant-day (the participant's local day) is not a valid wear day (worn minutes "
    "below the valid-day threshold). Each failing participant-day's reason starts with the words the coordinator "
    "sees on the dashboard, in the CLI summary and in the alert e-mails, from device sync events: "
    f"'{status_words(DayStatus.NOT_WEARING)}' (the device synced after the day ended) or "
    f"'{status_words(DayStatus.NOT_SYNCING)}' (no sync since the day ended); then the day's numbers and the "
    "participant's trailing 7-day rollup, also in the metadata. "
    "The coordinator alert sensor turns failures into one message per participant and day.",
)
def daily_adherence_valid_day(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    roster = study_files.roster()
    results: dict[ParticipantDayKey, DayResult] = {}
    non_adherent = []
    with warehouse.connection() as conn, conn.cursor() as cur:
        for key in participant_days(context, roster):
            report = study_files.read_report(HEART_RATE, key)
            if report is not None and not report.passed:
                # A data problem, not the participant's behaviour: the schema check tells the data engineer.
                results[key] = DayResult(True, "not judged: the day's heart-rate file failed validation (quarantined)")
                continue
            cur.execute(sql_query("daily_adherence_day"), {"participant_id": key.participant_id, "local_date": key.local_date})
            found = cur.fetchone()
            if found is None:  # before enrolment: nothing to judge
                continue
            row = dict(zip([c.name for c in cur.description], found))
            day = _day_from_row(row)
            metadata = {  # report_day_results puts the participant-day first
                "wear_minutes": day.wear_minutes,
                "day_minutes": day.day_minutes,
                "adherence_pct": round(day.adherence_pct, 2),
                "valid_day_minutes": row["valid_day_minutes"],
                "longest_gap_minutes": day.longest_gap_minutes,
                "gap_count": day.gap_count,
                "imputed_minutes": day.imputed_minutes,
            }
            if not day.valid_day:
                metadata[REASON] = non_adherence_reason(
                    day, row["valid_day_minutes"], row["consecutive_invalid_days"], row["trailing_7d_adherence_pct"]
                )
                non_adherent.append((key, metadata))
            results[key] = DayResult(day.valid_day, None, metadata)
        _add_day_status(cur, non_adherent)
    for key, metadata in non_adherent:  # the reason now says "not wearing" or "not syncing"
        results[key] = DayResult(False, f"{key}: {metadata[REASON]}", metadata)
    return report_day_results(context, roster, results, dg.AssetCheckSeverity.WARN)
