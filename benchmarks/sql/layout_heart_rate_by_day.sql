-- The same columns, range-partitioned by UTC day (partitions created ahead by the benchmark).
CREATE TABLE heart_rate (
    participant_id text NOT NULL, ts timestamptz NOT NULL,
    bpm smallint NOT NULL CHECK (bpm BETWEEN 25 AND 250), confidence smallint,
    PRIMARY KEY (participant_id, ts)) PARTITION BY RANGE (ts)
