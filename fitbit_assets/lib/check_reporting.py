"""One result per local day for every asset check, tied to that day's materialization, with each failing
participant-day in its metadata.

A check judges the run's participants; the failures the day's previous evaluation listed for participants this run
did not cover are carried over, so a later run of other participants (a batch of the daily tick, a one-participant
backfill) never turns a day green while a participant-day of it is still failing.

Dagster 1.13 gives a check evaluation a partition only when the step has a single partition key
(``AssetCheckResult.to_asset_check_evaluation``), and the UI's partition view counts an evaluation only when it
targets the partition's latest materialization (``AssetCheckPartitionInfo.is_current``). Ranged runs (backfills,
the daily tick) therefore log one ``AssetCheckEvaluation`` per day themselves, with its target materialization,
and end the step with a summary over the run's days (the check's headline in the UI).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from fitbit_assets.lib.check_metadata import (
    FAILING_PARTICIPANT_DAYS,
    LOCAL_DATE,
    PARTICIPANT_ID,
    PARTICIPANTS_CHECKED,
    PARTICIPANTS_FAILED,
)
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from fitbit_assets.domain.roster import Roster
from fitbit_assets.lib.partitions import ParticipantDayKey, run_local_dates, run_participants

SUMMARY_SCOPE = "days of this run, every participant"  # metadata["scope"] of summary evaluations
# Failing participant-days listed in full in a day's evaluation (the count is always exact); bounds the event size.
LISTED_FAILURES = 500


@dataclass(frozen=True)
class DayResult:
    """A check's verdict on one participant-day; ``metadata`` names the day, rule and rows of a failure."""

    passed: bool
    description: str | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)


def _failure_entry(key: ParticipantDayKey, result: DayResult) -> dict[str, object]:
    values = {name: getattr(value, "value", value) for name, value in result.metadata.items()}
    return {PARTICIPANT_ID: key.participant_id, LOCAL_DATE: key.local_date.isoformat(),
            "description": result.description, **values}


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_keys: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The newest materialization of each day (this run's, as the asset step ran before the check)."""
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


@dataclass(frozen=True)
class DayVerdict:
    """A check's result on one local day over the participants it judged."""

    local_date: dt.date
    checked: int
    failures: list[tuple[ParticipantDayKey, DayResult]]
    carried: list[dict] = field(default_factory=list)  # earlier runs' failures of participants not in this run

    @property
    def passed(self) -> bool:
        return not (self.failures or self.carried)

    @property
    def description(self) -> str:
        carried = f"; {len(self.carried)} failing participant(s) of earlier runs not re-checked" if self.carried else ""
        if not self.failures:
            return f"{self.local_date}: all {self.checked} participant(s) of this run passed{carried}"
        shown = "; ".join(result.description or str(key) for key, result in self.failures[:5])
        more = f" (+{len(self.failures) - 5} more)" if len(self.failures) > 5 else ""
        return f"{self.local_date}: {len(self.failures)} of {self.checked} participant(s) failed: {shown}{more}{carried}"

    def metadata(self) -> dict[str, object]:
        entries = [_failure_entry(key, result) for key, result in self.failures] + self.carried
        return {
            LOCAL_DATE: self.local_date.isoformat(),
            PARTICIPANTS_CHECKED: self.checked,
            PARTICIPANTS_FAILED: len(self.failures) + len(self.carried),
            FAILING_PARTICIPANT_DAYS: dg.MetadataValue.json(entries[:LISTED_FAILURES]),
        }


def _previous_failures(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, day: dt.date) -> list[dict]:
    """The failing participant-days the day's latest finished evaluation listed."""
    [record, *_] = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED},
        partition_filter=PartitionKeyFilter(key=day.isoformat()),
    ) or [None]
    if record is None or record.event is None:
        return []
    listed = record.event.dagster_event.event_specific_data.metadata.get(FAILING_PARTICIPANT_DAYS)
    return list(listed.value) if listed is not None else []


def day_verdicts(
    dates: list[dt.date],
    participants: set[str],
    results: Mapping[ParticipantDayKey, DayResult],
    previous_failures=lambda day: [],
) -> list[DayVerdict]:
    """Group the run's participant-day results by day (a participant-day without a result had nothing to check and
    passes), with the day's earlier failures of participants outside the run."""
    checked: dict[dt.date, int] = defaultdict(int)
    failures: dict[dt.date, list] = defaultdict(list)
    for key, result in sorted(results.items()):
        checked[key.local_date] += 1
        if not result.passed:
            failures[key.local_date].append((key, result))
    return [
        DayVerdict(day, checked[day], failures[day],
                   [entry for entry in previous_failures(day) if entry.get(PARTICIPANT_ID) not in participants])
        for day in dates
    ]


def report_day_results(
    context: dg.AssetCheckExecutionContext,
    roster: Roster,
    results: Mapping[ParticipantDayKey, DayResult],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Log each day's result against its materialization; return what Dagster records for the step."""
    [check_key] = context.selected_asset_check_keys
    verdicts = day_verdicts(
        run_local_dates(context), set(run_participants(context.run.tags, roster)), results,
        lambda day: _previous_failures(context.instance, check_key, day),
    )
    if context.has_partition_key and len(verdicts) == 1:
        [verdict] = verdicts  # Dagster ties the step's own result to its single partition
        return dg.AssetCheckResult(
            passed=verdict.passed, severity=severity, description=verdict.description, metadata=verdict.metadata()
        )
    targets = _latest_materializations(context.instance, check_key.asset_key, [v.local_date.isoformat() for v in verdicts])
    for verdict in verdicts:
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=check_key.asset_key,
                check_name=check_key.name,
                passed=verdict.passed,
                severity=severity,
                description=verdict.description,
                metadata=verdict.metadata(),
                partition=verdict.local_date.isoformat(),
                target_materialization_data=targets.get(verdict.local_date.isoformat()),
            )
        )
    failing = [v for v in verdicts if not v.passed]
    first, last = verdicts[0].local_date, verdicts[-1].local_date
    description = (
        f"{len(failing)} of {len(verdicts)} day(s) with failing participant-days on {first} .. {last}: "
        + ", ".join(f"{v.local_date} ({len(v.failures)})" for v in failing[:10])
        if failing
        else f"no participant-day failing on {first} .. {last}"
    )
    return dg.AssetCheckResult(
        passed=not failing,
        severity=severity,
        description=description,
        metadata={
            "scope": SUMMARY_SCOPE,
            FAILING_PARTICIPANT_DAYS: dg.MetadataValue.json(
                [str(key) for v in failing for key, _ in v.failures][:LISTED_FAILURES]
            ),
        },
    )
