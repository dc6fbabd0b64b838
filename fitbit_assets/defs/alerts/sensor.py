"""Coordinator alerts: failed asset checks, failed runs and lost consents -> one message per audience,
participant and local day, by email (SMTP) and/or a JSON webhook, never twice.

Each tick collects what happened since its cursor (collect.py), drops keys already delivered (alert_sent.py),
plans the messages (messages.py, pure) and sends them (channel.py, the resource of serving/alert_channel.py).
"""

import dagster as dg

from fitbit_assets.defs.alerts.alert_sent import already_sent, record_sent
from fitbit_assets.defs.alerts.channel import AlertChannelResource
from fitbit_assets.defs.alerts.collect import AlertCursor, collect_alerts, consent_alerts
from fitbit_assets.defs.alerts.messages import count_by_audience, plan_messages
from fitbit_assets.domain.coordinator_status import device_text
from fitbit_assets.serving.alert_channel import COORDINATOR, ENGINEER, AlertDeliveryError
from fitbit_assets.serving.query.devices import latest_device_states
from fitbit_assets.warehouse.resource import WarehouseResource


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Failed asset checks (e.g. daily_adherence_valid_day, WARN), failed runs and Google Health "
    "participants whose consent is gone (re-consent needed) -> one message per "
    "participant and local day by email (FITBIT_ALERT_SMTP_*) and/or JSON webhook (FITBIT_ALERT_WEBHOOK_URL). "
    "Delivered keys are kept in the alert_sent table, so re-runs do not alert twice.",
)
def coordinator_alert_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alert_channel: AlertChannelResource
):
    cursor = AlertCursor.parse(context.cursor)
    alerts, next_cursor = collect_alerts(context.instance, cursor)
    routed = {audience: alert_channel.channels(audience) for audience in (COORDINATOR, ENGINEER)}
    if not any(routed.values()):
        # The cursor stays: every tick says the same messages are pending, and they go out once a channel is
        # configured. The warehouse is not touched, so an unconfigured sensor needs no database at all.
        messages = plan_messages(alerts, set())
        return dg.SkipReason(
            f"{len(messages)} message(s) pending ({count_by_audience(messages)}): no channel configured "
            "(FITBIT_ALERT_SMTP_HOST + FITBIT_ALERT_SMTP_TO / FITBIT_ALERT_ENGINEER_TO, or FITBIT_ALERT_WEBHOOK_URL); "
            "they are sent once one is"
        )
    sent, unrouted, errors = [], [], []
    with warehouse.connection() as conn:
        alerts = [*alerts, *consent_alerts(conn)]
        devices = {pid: device_text(d.last_sync_at, d.timezone, d.battery_pct, d.battery_status)
                   for pid, d in latest_device_states(conn).items()}
        messages = plan_messages(alerts, already_sent(conn, alerts), devices)
        for message in messages:
            if not routed[message.audience]:
                unrouted.append(message)  # e.g. no FITBIT_ALERT_ENGINEER_TO: never sent to the other audience
                continue
            try:
                delivered = alert_channel.send(message)
            except AlertDeliveryError as exc:
                errors.append(f"{message.subject}: {exc}")
                continue
            record_sent(conn, message, delivered)
            sent.append(message.subject)
            context.log.info(f"sent {message.subject} to the {message.audience} via {', '.join(delivered)}")
    if errors:
        # The cursor stays put: the next tick retries; alert_sent keeps delivered messages from repeating.
        raise AlertDeliveryError(f"{len(errors)} of {len(messages)} message(s) not delivered: {'; '.join(errors[:5])}")
    context.update_cursor(next_cursor.serialize())
    reason = f"{len(sent)} message(s) sent" + (f": {sent[:10]}" if sent else "")
    if unrouted:
        reason += f"; {len(unrouted)} not sent, no channel for them ({count_by_audience(unrouted)})"
    return dg.SkipReason(reason)
