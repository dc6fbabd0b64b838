-- Loader (c): one INSERT per row (cursor.executemany).
INSERT INTO heart_rate (participant_id, ts, bpm) VALUES (%s, %s, %s)
