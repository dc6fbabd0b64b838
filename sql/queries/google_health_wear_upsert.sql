-- A pull's on-wrist minutes of one participant-day; a later pull of the day (late sync) replaces them.
INSERT INTO google_health_wear_daily (participant_id, local_date, on_wrist_minutes, true_zero_minutes)
VALUES (%(participant_id)s, %(local_date)s, %(on_wrist_minutes)s, %(true_zero_minutes)s)
ON CONFLICT (participant_id, local_date) DO UPDATE
SET on_wrist_minutes = EXCLUDED.on_wrist_minutes, true_zero_minutes = EXCLUDED.true_zero_minutes, pulled_at = now()
