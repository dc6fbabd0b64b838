-- Loader (b): psycopg2.extras.execute_values pages of rows; duplicates ignored, as an upsert-style loader would.
INSERT INTO heart_rate (participant_id, ts, bpm) VALUES %s ON CONFLICT DO NOTHING
