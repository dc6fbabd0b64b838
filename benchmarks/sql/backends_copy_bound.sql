-- The COPY bound on a backend: the day's rows, serialized beforehand, into the real (empty) heart_rate table in
-- one COPY: no DELETE, no lineage, no advisory lock (monthly partition on plain PostgreSQL, chunks on TimescaleDB).
COPY heart_rate (participant_id, ts, bpm) FROM STDIN (FORMAT csv)
