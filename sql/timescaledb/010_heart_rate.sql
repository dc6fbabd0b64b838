-- Raw heart rate, one row per device sample. (participant_id, ts) is the natural key: a participant-day
-- is replaced as a whole (DELETE window + COPY in one transaction), so the key only guards against bugs.
-- Same columns as on plain PostgreSQL (sql/postgres/010_heart_rate.sql, monthly partitions); the layouts differ.
CREATE TABLE IF NOT EXISTS heart_rate (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,
    bpm            smallint    NOT NULL CHECK (bpm BETWEEN 25 AND 250),
    PRIMARY KEY (participant_id, ts)
);

COMMENT ON TABLE heart_rate IS 'Fitbit heart-rate samples (UTC), loaded per participant local day by Dagster asset heart_rate_rows';

-- TimescaleDB: 1-day chunks (one day of ~hundreds of participants per chunk keeps the ingest-time index in
-- memory), compression segmented by participant so each participant-day compresses into full batches.
SELECT create_hypertable('heart_rate', by_range('ts', INTERVAL '1 day'), if_not_exists => TRUE, migrate_data => TRUE);

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM timescaledb_information.hypertables
        WHERE hypertable_name = 'heart_rate' AND compression_enabled
    ) THEN
        ALTER TABLE heart_rate SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'participant_id',
            timescaledb.compress_orderby = 'ts DESC'
        );
    END IF;
END
$$;

-- Compress only after late device syncs have landed (device memory is 7 days; allow twice that).
SELECT add_compression_policy('heart_rate', compress_after => INTERVAL '14 days', if_not_exists => TRUE);
