-- TimescaleDB: the intraday metric tables (SpO2, HRV: ~100 rows per night; AZM: up to a few hundred minutes a
-- day; sleep minutes: ~500 a night) are small, so 7-day chunks; compression segmented by participant, after the
-- late-sync window like heart_rate. The daily tables stay plain tables.
SELECT create_hypertable('spo2', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('hrv', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('active_zone_minutes', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('sleep_minutes', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE, migrate_data => TRUE);

DO $$
DECLARE
    hypertable text;
BEGIN
    FOREACH hypertable IN ARRAY ARRAY['spo2', 'hrv', 'active_zone_minutes', 'sleep_minutes'] LOOP
        IF NOT EXISTS (
            SELECT 1 FROM timescaledb_information.hypertables
            WHERE hypertable_name = hypertable AND compression_enabled
        ) THEN
            EXECUTE format(
                'ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                'timescaledb.compress_orderby = %L)', hypertable, 'participant_id', 'ts DESC');
        END IF;
    END LOOP;
END
$$;

SELECT add_compression_policy('spo2', compress_after => INTERVAL '14 days', if_not_exists => TRUE);
SELECT add_compression_policy('hrv', compress_after => INTERVAL '14 days', if_not_exists => TRUE);
SELECT add_compression_policy('active_zone_minutes', compress_after => INTERVAL '14 days', if_not_exists => TRUE);
SELECT add_compression_policy('sleep_minutes', compress_after => INTERVAL '14 days', if_not_exists => TRUE);
