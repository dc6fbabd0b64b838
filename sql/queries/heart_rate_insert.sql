-- Row-by-row alternative to heart_rate_copy for servers without COPY FROM STDIN (the PGlite test server).
INSERT INTO heart_rate (participant_id, ts, bpm) VALUES %s
