-- One accepted notification interval of a participant's data type (webhook receiver).
INSERT INTO google_health_notification (participant_id, data_type, interval_start, interval_end)
VALUES (%(participant_id)s, %(data_type)s, %(interval_start)s, %(interval_end)s)
