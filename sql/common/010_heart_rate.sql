-- Raw heart rate, one row per device sample. (participant_id, ts) is the natural key: a participant-day
-- is replaced as a whole (DELETE window + COPY in one transaction), so the key only guards against bugs.
CREATE TABLE IF NOT EXISTS heart_rate (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,
    bpm            smallint    NOT NULL CHECK (bpm BETWEEN 25 AND 250),
    PRIMARY KEY (participant_id, ts)
);

COMMENT ON TABLE heart_rate IS 'Fitbit heart-rate samples (UTC), loaded per participant local day by Dagster asset heart_rate_rows';
