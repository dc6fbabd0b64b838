-- (samples, bytes, chunks, extension version) of the heart_rate hypertable.
SELECT (SELECT count(*) FROM heart_rate),
       hypertable_size('heart_rate'),
       (SELECT count(*) FROM show_chunks('heart_rate')),
       (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb')
