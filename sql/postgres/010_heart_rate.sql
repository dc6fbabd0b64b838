-- Plain PostgreSQL: the primary key's btree (participant_id, ts) serves every per-participant range read and
-- the per-day replace. Rows arrive clustered by participant-day, so a BRIN index on ts is a cheap extra
-- for cohort-wide time-range scans (a few pages per GB).
CREATE INDEX IF NOT EXISTS heart_rate_ts_brin ON heart_rate USING brin (ts);
