"""The ``alert_sent`` table: keys already delivered, so re-runs and sensor resets do not alert twice."""

from collections.abc import Iterable

from fitbit_assets.defs.alerts.messages import Alert, AlertKey, Message
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.sql_files import sql_query


def already_sent(conn, alerts: Iterable[Alert]) -> set[AlertKey]:
    keys = list({alert.key for alert in alerts})
    if not keys:
        return set()
    with conn.cursor() as cur:
        cur.execute(
            sql_query("alert_sent_keys"),
            {
                "participant_ids": [k[0] for k in keys],
                "local_dates": [k[1] for k in keys],
                "kinds": [k[2] for k in keys],
            },
        )
        return {(participant_id, local_date, kind) for participant_id, local_date, kind in cur.fetchall()}


def record_sent(conn, message: Message, channels: list[str]) -> None:
    with transaction(conn) as cur:
        for alert in message.alerts:
            cur.execute(
                sql_query("alert_sent_insert"),
                {
                    "participant_id": alert.participant_id,
                    "local_date": alert.local_date,
                    "kind": alert.kind,
                    "channels": ",".join(channels),
                    "subject": message.subject,
                },
            )
