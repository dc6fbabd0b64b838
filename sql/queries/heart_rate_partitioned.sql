-- Is heart_rate declaratively partitioned (plain PostgreSQL, sql/postgres/010_heart_rate.sql)? A TimescaleDB
-- hypertable is not: it creates its chunks on insert.
SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('heart_rate'))
