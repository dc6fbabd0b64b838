-- INSERTs, not COPY: COPY FROM STDIN crashes the WASM TimescaleDB test server.
INSERT INTO heart_rate (participant_id, ts, bpm) VALUES %s
