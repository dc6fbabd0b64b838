"""Where alerts come from: the Dagster instance (failed participant-day check evaluations and failed runs since
the cursor) and the warehouse (participants whose Google Health consent is gone).

A failed non-blocking check does not fail its run (dagster-io/dagster#29896), so run-failure sensors never see
it: finished runs are followed in the event log instead, and each one's check evaluations read.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import dagster as dg

from fitbit_assets.defs.alerts.messages import (
    Alert,
    alerts_from_check_evaluation,
    alert_from_run_failure,
    alerts_from_consent,
)
from fitbit_assets.warehouse.sql_files import sql_query

BATCH_LIMIT = 500


@dataclass(frozen=True)
class AlertCursor:
    """Last processed run-status event-log storage ids: finished runs (their check evaluations) and failed runs."""

    success_storage_id: int = 0
    failure_storage_id: int = 0

    @classmethod
    def parse(cls, cursor: Optional[str]) -> "AlertCursor":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(int(data.get("success", 0)), int(data.get("failure", 0)))

    def serialize(self) -> str:
        return json.dumps({"success": self.success_storage_id, "failure": self.failure_storage_id})


def consent_alerts(conn) -> list[Alert]:
    with conn.cursor() as cur:
        cur.execute(sql_query("consent_reconsent_needed"))
        return alerts_from_consent(cur.fetchall())


def _metadata_values(metadata: Mapping[str, object]) -> dict[str, object]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _check_alerts_of_run(instance: dg.DagsterInstance, run_id: str) -> list[Alert]:
    alerts = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        alerts += alerts_from_check_evaluation(
            evaluation.check_name,
            evaluation.passed,
            evaluation.partition,
            _metadata_values(evaluation.metadata),
            evaluation.description,
            dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc),
            # The severity in Dagster's own word (WARN / ERROR), as the check's page shows it.
            source=f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}, severity "
            f"{evaluation.severity.value}, run {run_id}",
        )
    return alerts


def collect_alerts(instance: dg.DagsterInstance, cursor: AlertCursor) -> tuple[list[Alert], AlertCursor]:
    """New alerts since ``cursor``, and the cursor after them.

    Finished runs are found through run-status records (RUN_SUCCESS / RUN_FAILURE), which carry global storage
    ids on every event-log storage (also the run-sharded SQLite one of ``make dev``); the check evaluations are
    then read from each finished run's own event log.
    """
    from dagster._core.event_api import RunStatusChangeRecordsFilter

    alerts: list[Alert] = []
    success_id, failure_id = cursor.success_storage_id, cursor.failure_storage_id
    for event_type, after in (
        (dg.DagsterEventType.RUN_SUCCESS, cursor.success_storage_id),
        (dg.DagsterEventType.RUN_FAILURE, cursor.failure_storage_id),
    ):
        records = instance.fetch_run_status_changes(
            RunStatusChangeRecordsFilter(event_type, after_storage_id=after or None), limit=BATCH_LIMIT, ascending=True
        ).records
        for record in records:
            alerts.extend(_check_alerts_of_run(instance, record.run_id))
            if event_type == dg.DagsterEventType.RUN_SUCCESS:
                success_id = max(success_id, record.storage_id)
                continue
            failure_id = max(failure_id, record.storage_id)
            run = instance.get_run_by_id(record.run_id)
            event = record.event_log_entry.dagster_event
            alerts.append(
                alert_from_run_failure(
                    record.run_id,
                    run.job_name if run else "?",
                    run.tags if run else {},
                    " ".join(
                        filter(None, [(event.message if event else None) or record.event_log_entry.user_message]
                               + _step_failures(instance, record.run_id))
                    ),
                    dt.datetime.fromtimestamp(record.timestamp, dt.timezone.utc),
                )
            )
    return alerts, AlertCursor(success_id, failure_id)


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """What failed inside the run, for the coordinator (e.g. "no data yet for ...")."""
    reasons = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data
        user = data.user_failure_data
        detail = (user.description if user and user.description else None) or (data.error.message.strip() if data.error else "")
        reasons.append(f"Step {entry.step_key}: {detail[:500]}")
    return reasons
