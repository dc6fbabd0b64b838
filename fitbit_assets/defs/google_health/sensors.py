"""Push, not only the daily tick: accepted Google Health notifications -> runs of the pipeline job for the affected
participant-days (the webhook receiver stores them: fitbit_assets/serving/api/google_health_webhook.py), and each
enrolled participant's push subscription kept in step with the roster and their consent."""

import datetime as dt

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.defs.google_health.assets import subscriptions_client
from fitbit_assets.defs.jobs import pipeline_job
from fitbit_assets.google_health import SOURCE
from fitbit_assets.google_health.notifications import local_day_range
from fitbit_assets.google_health.subscriptions import sync_subscriptions
from fitbit_assets.lib.partitions import range_tags
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.sql_files import sql_query

BATCH_LIMIT = 1000
FULL_CHECK = dt.timedelta(hours=24)  # how often every subscription is checked against what Google holds


def notification_run_requests(rows, roster, yesterday: dt.date) -> tuple[list[dg.RunRequest], list[int]]:
    """(notification_id, participant_id, start, end) rows -> one ranged run per participant over the local days the
    notifications touch (from enrolment to the last date partition, yesterday UTC: today's day is pulled by the
    first notification after it ended), and the ids handled (a row of a participant no longer in the roster, or
    with no day to pull, is handled by doing nothing)."""
    spans: dict[str, tuple[dt.date, dt.date, int]] = {}
    handled = []
    by_id = {p.participant_id: p for p in roster.participants}
    for notification_id, participant_id, start, end in rows:
        handled.append(notification_id)
        participant = by_id.get(participant_id)
        if participant is None or participant.source != SOURCE:
            continue
        first, last = local_day_range(start, end, participant.timezone)
        first, last = max(first, participant.enrolled_on), min(last, yesterday)
        if first > last:
            continue
        known = spans.get(participant_id)
        spans[participant_id] = (min(first, known[0]), max(last, known[1]), notification_id) if known else (
            first, last, notification_id)
    requests = [dg.RunRequest(run_key=f"google-health-notification:{participant_id}:{last_id}",
                              tags=range_tags(participant_id, first, last))
                for participant_id, (first, last, last_id) in sorted(spans.items())]
    return requests, handled


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Google Health push notifications accepted by the webhook receiver (table google_health_notification) "
    "-> one pipeline run per participant over the local days the notifications touch, so new data reaches the "
    "warehouse, checks and coordinator alerts minutes after the device synced instead of the next daily tick. "
    "Handled notifications are marked processed (the run key makes a repeated tick launch nothing twice).",
)
def google_health_notification_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, study_files: StudyFilesResource
):
    with warehouse.connection() as conn:
        with conn.cursor() as cur:
            cur.execute(sql_query("google_health_notification_pending"), {"limit": BATCH_LIMIT})
            rows = cur.fetchall()
        if not rows:
            return dg.SkipReason("no pending Google Health notification")
        yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
        requests, handled = notification_run_requests(rows, study_files.roster(), yesterday)
        with transaction(conn) as cur:
            cur.execute(sql_query("google_health_notification_processed"), {"ids": handled})
    context.log.info(f"{len(handled)} notification(s) -> {len(requests)} run(s)")
    return dg.SensorResult(run_requests=requests)


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Per-participant Google Health push subscriptions (MANUAL policy of FITBIT_GOOGLE_SUBSCRIBER) kept "
    "in step with the study: created for an enrolled participant whose consent stands (`fitbit-assets connect` "
    "does it at once), their data types patched when the granted scopes change, deleted when the participant "
    "leaves the roster or their consent is lost. Only accounts whose stored subscription differs are sent to "
    "Google, and once a day every account (its subscriptions listed at Google, one lost there recreated; the "
    "cursor holds the last full check). Does nothing without FITBIT_GOOGLE_SUBSCRIBER.",
)
def google_health_subscription_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, study_files: StudyFilesResource
):
    client = subscriptions_client(settings.load())
    if client is None:
        return dg.SkipReason("FITBIT_GOOGLE_SUBSCRIBER is not set: no per-participant subscriptions")
    enrolled = {p.participant_id for p in study_files.roster().participants if p.source == SOURCE}
    now = dt.datetime.now(dt.timezone.utc)
    check_all = not context.cursor or now - dt.datetime.fromisoformat(context.cursor) >= FULL_CHECK
    outcome = sync_subscriptions(warehouse.connection, client, enrolled, check_all=check_all)
    failed = {pid: what for pid, what in outcome.items() if what.startswith("failed")}
    if failed:
        context.log.warning(f"{len(failed)} subscription(s) not reconciled, retried next tick: {failed}")
    done = {pid: what for pid, what in sorted(outcome.items()) if pid not in failed and not what.startswith(("kept", "none"))}
    reason = dg.SkipReason(f"subscriptions{' (full check)' if check_all else ''}: {done or 'all in step'}"
                           + (f"; failed: {sorted(failed)}" if failed else ""))
    if check_all and not failed:  # a failed full check is tried again on the next tick
        context.update_cursor(now.isoformat())
    return reason
