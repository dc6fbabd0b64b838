INSERT INTO day_loads (stage, participant_id, local_date, input_fingerprint, rows, loaded_at)
VALUES (%(stage)s, %(participant_id)s, %(local_date)s, %(input_fingerprint)s, %(rows)s, now())
ON CONFLICT (stage, participant_id, local_date) DO UPDATE
SET input_fingerprint = EXCLUDED.input_fingerprint, rows = EXCLUDED.rows, loaded_at = EXCLUDED.loaded_at
