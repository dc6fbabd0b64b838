"""Checks on the rollups: aggregates equal a recomputation from raw rows; each day is a valid wear day (WARN).

Both are partitioned checks. In a ranged run (one run per participant for several days) a check step has no
single partition key, so besides the overall result each check logs one AssetCheckEvaluation per partition:
the UI then shows the result of every participant-day, and the alert sensor reads them one by one.
"""


from collections import defaultdict

import dagster as dg

from fitbit_assets.adherence import DayAdherence, non_adherence_reason
from fitbit_assets.assets.rollups import daily_adherence, heart_rate_aggregates
from fitbit_assets.device_sync import status_explanation
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.rollups import aggregate_mismatches, utc_day_window
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, sql_query

VALID_DAY_CHECK = "daily_adherence_valid_day"
AGGREGATES_CHECK = "heart_rate_aggregates_match_raw"


def _per_partition(
    context: dg.AssetCheckExecutionContext,
    asset_key: dg.AssetKey,
    check_name: str,
    results: dict[ParticipantDayKey, tuple[bool, dict]],
    severity: dg.AssetCheckSeverity,
) -> None:
    """Log one evaluation per partition when the run covers a range (a single-key run reports it itself)."""
    if len(context.partition_keys) <= 1 and context.has_partition_key:
        return
    for key, (passed, metadata) in sorted(results.items()):
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=check_name,
                passed=passed,
                metadata=metadata,
                severity=severity,
                description=metadata.get("reason"),
                blocking=False,
                partition=key.key,
            )
        )


@dg.asset_check(
    asset=heart_rate_aggregates,
    partitions_def=participant_day_partitions,
    description="heart_rate_1m/1h/1d equal a recomputation from raw heart_rate rows for the partitions' UTC days "
    "(samples, sums, min and max exact; means within 1e-9).",
)
def heart_rate_aggregates_match_raw(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    roster = study_files.roster()
    results: dict[ParticipantDayKey, tuple[bool, dict]] = {}
    all_mismatches, compared_total = [], 0
    with warehouse.connection() as conn:
        for key in participant_days(context):
            day = LocalDay(key.local_date, roster.get(key.participant_id).timezone)
            compared, mismatches = aggregate_mismatches(conn, key.participant_id, utc_day_window([day]))
            compared_total += compared
            all_mismatches.extend({"day": str(key), **m} for m in mismatches)
            results[key] = (not mismatches, {"buckets_compared": compared, "mismatches": len(mismatches)})
    _per_partition(context, heart_rate_aggregates.key, AGGREGATES_CHECK, results, dg.AssetCheckSeverity.ERROR)
    return dg.AssetCheckResult(
        passed=not all_mismatches,
        metadata={
            "days_checked": len(results),
            "buckets_compared": compared_total,
            "mismatches": dg.MetadataValue.json(all_mismatches[:50]),
        },
    )


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


def _add_day_status(cur, non_adherent: list[dict]) -> None:
    """Tell "not wearing" from "not syncing" (view participant_day_status, fed by device_sync) in each invalid
    day's metadata and reason, so the alert asks the participant for the right thing."""
    days_by_participant: dict[str, list[dict]] = defaultdict(list)
    for metadata in non_adherent:
        days_by_participant[metadata["participant_id"]].append(metadata)
    for participant_id, entries in days_by_participant.items():
        dates = [entry["local_date"] for entry in entries]
        cur.execute(sql_query("participant_day_status"), {"participant_id": participant_id, "first": min(dates), "last": max(dates)})
        columns = [c.name for c in cur.description]
        statuses = {row["local_date"].isoformat(): row for row in (dict(zip(columns, r)) for r in cur.fetchall())}
        for entry in entries:
            status = statuses.get(entry["local_date"])
            if status is None or status["status"] == "ok":  # the view classifies days up to local yesterday only
                continue
            entry["day_status"] = status["status"] if status["sync_data_available"] else "unknown"
            entry["last_sync_at"] = status["last_sync_at"].isoformat() if status["last_sync_at"] else None
            explanation = status_explanation(
                status["status"], status["first_sync_after_day_end"], status["last_sync_at"], status["sync_data_available"]
            )
            entry["reason"] = f"{explanation}; {entry['reason']}"


@dg.asset_check(
    asset=daily_adherence,
    partitions_def=participant_day_partitions,
    description="WARN when a participant-day is not a valid wear day (worn minutes below the valid-day threshold); "
    "the reason (not wearing vs not syncing, from device sync events), the day's numbers and the participant's "
    "trailing 7-day rollup are in the metadata. "
    "The coordinator alert sensor turns failures into one message per participant and day.",
)
def daily_adherence_valid_day(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    results: dict[ParticipantDayKey, tuple[bool, dict]] = {}
    non_adherent, checked = [], 0
    with warehouse.connection() as conn, conn.cursor() as cur:
        for key in participant_days(context):
            cur.execute(sql_query("daily_adherence_day"), {"participant_id": key.participant_id, "local_date": key.local_date})
            found = cur.fetchone()
            if found is None:  # before enrolment: nothing to judge
                continue
            row = dict(zip([c.name for c in cur.description], found))
            checked += 1
            day = _day_from_row(row)
            metadata = {
                "participant_id": key.participant_id,
                "local_date": key.local_date.isoformat(),
                "wear_minutes": day.wear_minutes,
                "day_minutes": day.day_minutes,
                "adherence_pct": round(day.adherence_pct, 2),
                "valid_day_minutes": row["valid_day_minutes"],
                "longest_gap_minutes": day.longest_gap_minutes,
                "gap_count": day.gap_count,
                "imputed_minutes": day.imputed_minutes,
            }
            if not day.valid_day:
                metadata["reason"] = non_adherence_reason(
                    day, row["valid_day_minutes"], row["consecutive_invalid_days"], row["trailing_7d_adherence_pct"]
                )
                non_adherent.append(metadata)
            results[key] = (day.valid_day, metadata)
        _add_day_status(cur, non_adherent)
    _per_partition(context, daily_adherence.key, VALID_DAY_CHECK, results, dg.AssetCheckSeverity.WARN)
    description = None
    if non_adherent:
        participants = sorted({m["participant_id"] for m in non_adherent})
        description = f"{len(non_adherent)} of {checked} participant-day(s) below the valid-day threshold: {', '.join(participants)}"
        if len(non_adherent) == 1:
            description = f"{non_adherent[0]['participant_id']} {non_adherent[0]['local_date']}: {non_adherent[0]['reason']}"
    return dg.AssetCheckResult(
        passed=not non_adherent,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "days_checked": checked,
            "non_adherent_days": len(non_adherent),
            "non_adherent": dg.MetadataValue.json(non_adherent[:100]),
        },
    )
