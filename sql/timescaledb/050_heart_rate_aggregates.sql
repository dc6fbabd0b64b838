-- Heart-rate rollups as hierarchical continuous aggregates: 1 min on the heart_rate hypertable, 1 h on the
-- 1-min aggregate, 1 day (UTC) on the 1-h aggregate (cagg-on-cagg, TimescaleDB >= 2.9). Each level stores
-- count and sum so upper levels never average averages; mean_bpm is derived from them with the same
-- expression the plain-PostgreSQL tables use (sql/postgres/050_heart_rate_aggregates.sql).
-- materialized_only = true (no real-time union with raw rows): the Dagster asset heart_rate_aggregates
-- refreshes the loaded window explicitly (CALL refresh_continuous_aggregate, autocommit), so reads are
-- deterministic. WITH NO DATA keeps this file runnable inside apply_schema's transaction.
CREATE MATERIALIZED VIEW IF NOT EXISTS heart_rate_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT participant_id,
       time_bucket(INTERVAL '1 minute', ts)  AS bucket,
       count(*)                              AS samples,
       sum(bpm)::bigint                      AS bpm_sum,
       min(bpm)                              AS min_bpm,
       max(bpm)                              AS max_bpm,
       sum(bpm)::double precision / count(*)::double precision AS mean_bpm
FROM heart_rate
GROUP BY participant_id, time_bucket(INTERVAL '1 minute', ts)
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS heart_rate_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT participant_id,
       time_bucket(INTERVAL '1 hour', bucket)                        AS bucket,
       sum(samples)::bigint                                          AS samples,
       sum(bpm_sum)::bigint                                          AS bpm_sum,
       min(min_bpm)                                                  AS min_bpm,
       max(max_bpm)                                                  AS max_bpm,
       sum(bpm_sum)::double precision / sum(samples)::double precision AS mean_bpm
FROM heart_rate_1m
GROUP BY participant_id, time_bucket(INTERVAL '1 hour', bucket)
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS heart_rate_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT participant_id,
       time_bucket(INTERVAL '1 day', bucket)                         AS bucket,
       sum(samples)::bigint                                          AS samples,
       sum(bpm_sum)::bigint                                          AS bpm_sum,
       min(min_bpm)                                                  AS min_bpm,
       max(max_bpm)                                                  AS max_bpm,
       sum(bpm_sum)::double precision / sum(samples)::double precision AS mean_bpm
FROM heart_rate_1h
GROUP BY participant_id, time_bucket(INTERVAL '1 day', bucket)
WITH NO DATA;

-- One row per participant and day: 1-year chunks (the default for an aggregate is 10x the raw table's 1 day), so a
-- participant's year is one or two chunks to plan and probe, not 37 (2-5 ms -> ~1 ms at 100 participants x 1 year).
-- Applies to chunks created from now on.
SELECT set_chunk_time_interval('heart_rate_1d', INTERVAL '1 year');

-- Safety net only (the asset refreshes what it loads): re-materialize anything invalidated in the late-sync
-- window (device memory 7 days + sync lag -> 30 days), lowest level first. Each policy is added once, looked up
-- by name: on a hierarchical aggregate (1 h, 1 day) add_continuous_aggregate_policy(if_not_exists => TRUE) still
-- raises "multiple refresh policies are not supported" when the policy exists (TimescaleDB 2.23), which would
-- break every re-apply of this file.
DO $$
DECLARE
    policy record;
BEGIN
    FOR policy IN SELECT * FROM (VALUES
        ('heart_rate_1m', INTERVAL '1 minute', INTERVAL '1 hour'),
        ('heart_rate_1h', INTERVAL '1 hour', INTERVAL '1 hour'),
        ('heart_rate_1d', INTERVAL '1 day', INTERVAL '1 day')) AS p (view_name, end_offset, schedule_interval)
    LOOP
        IF NOT EXISTS (
            SELECT 1 FROM timescaledb_information.jobs
            WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_schema = current_schema()
              AND hypertable_name = policy.view_name
        ) THEN
            PERFORM add_continuous_aggregate_policy(policy.view_name::regclass, start_offset => INTERVAL '30 days',
                end_offset => policy.end_offset, schedule_interval => policy.schedule_interval);
        END IF;
    END LOOP;
END
$$;
