-- Plain PostgreSQL equivalents of the TimescaleDB continuous aggregates (same names, same columns, same
-- mean expression): ordinary tables that the Dagster asset heart_rate_aggregates refreshes for the loaded
-- window (sql/queries/heart_rate_1*_refresh.sql: delete the window, re-insert from the level below).
CREATE TABLE IF NOT EXISTS heart_rate_1m (
    participant_id text             NOT NULL,
    bucket         timestamptz      NOT NULL,
    samples        bigint           NOT NULL,
    bpm_sum        bigint           NOT NULL,
    min_bpm        smallint         NOT NULL,
    max_bpm        smallint         NOT NULL,
    mean_bpm       double precision GENERATED ALWAYS AS (bpm_sum::double precision / samples::double precision) STORED,
    PRIMARY KEY (participant_id, bucket)
);

CREATE TABLE IF NOT EXISTS heart_rate_1h (LIKE heart_rate_1m INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE IF NOT EXISTS heart_rate_1d (LIKE heart_rate_1m INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING INDEXES);

COMMENT ON TABLE heart_rate_1m IS '1-minute heart-rate rollup (UTC buckets), refreshed by Dagster asset heart_rate_aggregates';
COMMENT ON TABLE heart_rate_1h IS '1-hour heart-rate rollup built from heart_rate_1m, refreshed by Dagster asset heart_rate_aggregates';
COMMENT ON TABLE heart_rate_1d IS '1-day (UTC) heart-rate rollup built from heart_rate_1h, refreshed by Dagster asset heart_rate_aggregates';
