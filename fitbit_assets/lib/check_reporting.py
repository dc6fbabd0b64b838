"""One result per participant-day for every asset check, tied to that partition's materialization.

Dagster 1.13 gives a check evaluation a partition only when the step has a single partition key
(``AssetCheckResult.to_asset_check_evaluation``), and the UI's partition view counts an evaluation only when it
targets the partition's latest materialization (``AssetCheckPartitionInfo.is_current``). Our runs cover ranges
(backfills, the daily tick), so each check logs one ``AssetCheckEvaluation`` per participant-day itself, with
the partition and its target materialization: the UI then shows every participant-day as passed or failed.

The check's headline in the UI is its newest execution record. Every check step therefore ends with a summary
evaluation (no partition) over the dates it covered for *all* registered participants: a later run of another
participant never turns the headline green while a participant-day of those dates is still failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from fitbit_assets.lib.check_metadata import LOCAL_DATE, PARTICIPANT_ID
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_days, participant_partitions

SUMMARY_SCOPE = "dates of this run, every participant"  # metadata["scope"] of summary evaluations


@dataclass(frozen=True)
class DayResult:
    """A check's verdict on one participant-day; ``metadata`` names the day, rule and rows of a failure."""

    passed: bool
    description: str | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)


def _day_metadata(key: ParticipantDayKey, result: DayResult) -> dict[str, object]:
    return {PARTICIPANT_ID: key.participant_id, LOCAL_DATE: key.local_date.isoformat(), **result.metadata}


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_keys: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The newest materialization of each partition (this run's, as the asset step ran before the check)."""
    found: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    cursor = None
    while len(found) < len(partition_keys):
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=partition_keys),
            limit=max(len(partition_keys), 100),
            cursor=cursor,
        )
        for record in page.records:  # newest first
            partition = record.event_log_entry.dagster_event.partition
            if partition not in found:
                found[partition] = AssetCheckEvaluationTargetMaterializationData(
                    run_id=record.run_id, storage_id=record.storage_id, timestamp=record.timestamp
                )
        if not page.has_more:
            break
        cursor = page.cursor
    return found


def _failing_partitions(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, keys: list[ParticipantDayKey]
) -> list[str]:
    """Participant-days of the run's dates (every registered participant) whose current result is a failure."""
    dates = sorted({key.local_date for key in keys})
    participants = instance.get_dynamic_partitions(participant_partitions.name)
    partition_keys = [ParticipantDayKey(date, participant).key for date in dates for participant in participants]
    infos = instance.event_log_storage.get_asset_check_partition_info([check_key], partition_keys=partition_keys)
    return sorted(
        info.partition_key
        for info in infos
        if info.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED and info.is_current
    )


def _summary(
    instance: dg.DagsterInstance,
    check_key: dg.AssetCheckKey,
    keys: list[ParticipantDayKey],
    severity: dg.AssetCheckSeverity,
    pending: Mapping[ParticipantDayKey, DayResult],
) -> dg.AssetCheckEvaluation:
    """Failing participant-days of the run's dates; ``pending`` results (not stored yet) override the stored ones."""
    failing = {str(ParticipantDayKey.parse(key)) for key in _failing_partitions(instance, check_key, keys)}
    for key, result in pending.items():
        (failing.discard if result.passed else failing.add)(str(key))
    failing_days = sorted(failing)
    first, last = min(k.local_date for k in keys), max(k.local_date for k in keys)
    if failing_days:
        description = f"{len(failing_days)} participant-day(s) failing on {first} .. {last}: {', '.join(failing_days[:10])}"
        description += " ..." if len(failing_days) > 10 else ""
    else:
        description = f"no participant-day failing on {first} .. {last}"
    return dg.AssetCheckEvaluation(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=not failing_days,
        severity=severity,
        description=description,
        metadata={"scope": SUMMARY_SCOPE, "failing_participant_days": failing_days[:200]},
    )


def report_day_results(
    context: dg.AssetCheckExecutionContext,
    results: Mapping[ParticipantDayKey, DayResult],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Log each participant-day's result against its materialization; return what Dagster records for the step.

    A participant-day of the run missing from ``results`` had nothing to check (e.g. before enrolment) and passes.
    Failures are logged after passes, so within a run the newest per-day record is a failure if any day failed.
    """
    [check_key] = context.selected_asset_check_keys
    keys = participant_days(context)
    by_day = {key: results.get(key) or DayResult(True, "nothing to check for this participant-day") for key in keys}
    instance = context.instance

    def evaluation(key: ParticipantDayKey, result: DayResult, target) -> dg.AssetCheckEvaluation:
        return dg.AssetCheckEvaluation(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=result.passed,
            severity=severity,
            description=result.description,
            metadata=_day_metadata(key, result),
            partition=key.key,
            target_materialization_data=target,
        )

    if context.has_partition_key and len(keys) == 1:
        # Dagster ties the step's own result to its single partition; the summary comes first in the log but is
        # a newer execution record (the partition's row was planned at run creation), so it is the headline.
        context.op_execution_context.log_event(_summary(instance, check_key, keys, severity, pending=by_day))
        [(key, result)] = by_day.items()
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=severity,
            description=result.description,
            metadata=_day_metadata(key, result),
        )
    targets = _latest_materializations(instance, check_key.asset_key, [key.key for key in keys])
    for key, result in sorted(by_day.items(), key=lambda item: (not item[1].passed, item[0])):
        context.op_execution_context.log_event(evaluation(key, result, targets.get(key.key)))
    summary = _summary(instance, check_key, keys, severity, pending={})
    return dg.AssetCheckResult(
        passed=summary.passed, severity=severity, description=summary.description, metadata=summary.metadata
    )

