-- The heart_rate columns of sql/postgres/010_heart_rate.sql as one plain table (layouts "plain" and "brin").
CREATE TABLE heart_rate (
    participant_id text NOT NULL, ts timestamptz NOT NULL,
    bpm smallint NOT NULL CHECK (bpm BETWEEN 25 AND 250), confidence smallint,
    PRIMARY KEY (participant_id, ts))
