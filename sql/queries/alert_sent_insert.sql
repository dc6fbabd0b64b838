INSERT INTO alert_sent (participant_id, local_date, kind, channels, subject)
VALUES (%(participant_id)s, %(local_date)s, %(kind)s, %(channels)s, %(subject)s)
ON CONFLICT (participant_id, local_date, kind) DO NOTHING
