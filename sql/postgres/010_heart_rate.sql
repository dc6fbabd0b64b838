-- Raw heart rate on plain PostgreSQL: declaratively range-partitioned on ts by UTC month (benchmarks/RESULTS.md,
-- "plain-PostgreSQL layout": BRIN made cohort-wide range queries slower; partitions prune them to one month and
-- keep each PK btree small; months rather than days keep planning and locking cheap over years of data).
-- (participant_id, ts) is the natural key: a participant-day is replaced as a whole (DELETE window + COPY in one
-- transaction), so the key only guards against bugs. It contains the partition key, so it is enforced per month.
-- Same columns as the TimescaleDB hypertable (sql/timescaledb/010_heart_rate.sql); the layouts differ.
-- There is no DEFAULT partition: creating a month later would have to scan it and move its rows. The loader
-- creates the months a load covers first (heart_rate_create_partitions below); a row outside every partition is
-- refused, not parked.

-- Databases created before partitioning hold heart_rate as a plain table. Converted in place, no row moved: the
-- old table becomes the partition heart_rate_legacy (its PK kept, the BRIN dropped) covering everything before the
-- month after its latest sample; later months get monthly partitions. Costs two scans of the old table (latest
-- sample, ATTACH's bound check), once. Views reading heart_rate are re-created by later files (same transaction).
-- A TimescaleDB database applied with timescaledb=off is left alone: its heart_rate may be a hypertable.
DO $$
DECLARE
    legacy_end timestamptz;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('heart_rate')) = 'r'
       AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RAISE NOTICE 'heart_rate: converting the plain table into monthly partitions (old rows kept in heart_rate_legacy)';
        ALTER TABLE heart_rate RENAME TO heart_rate_legacy;
        ALTER INDEX IF EXISTS heart_rate_pkey RENAME TO heart_rate_legacy_pkey;  -- frees the name for the new PK
        DROP INDEX IF EXISTS heart_rate_ts_brin;
        CREATE TABLE heart_rate (LIKE heart_rate_legacy INCLUDING ALL) PARTITION BY RANGE (ts);
        -- In UTC wall time: a month added to a timestamptz would count in the session's time zone.
        SELECT (date_trunc('month', max(ts) AT TIME ZONE 'UTC') + INTERVAL '1 month') AT TIME ZONE 'UTC'
        INTO legacy_end FROM heart_rate_legacy;
        -- An empty old table gets an empty range (nothing before -infinity): every month is then a partition.
        EXECUTE format('ALTER TABLE heart_rate ATTACH PARTITION heart_rate_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
                       coalesce(legacy_end, '-infinity'));
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS heart_rate (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,
    bpm            smallint    NOT NULL CHECK (bpm BETWEEN 25 AND 250),
    PRIMARY KEY (participant_id, ts)
) PARTITION BY RANGE (ts);

COMMENT ON TABLE heart_rate IS 'Fitbit heart-rate samples (UTC), loaded per participant local day by Dagster asset heart_rate_rows; partitioned by UTC month';

-- Partitions of heart_rate and their ts ranges (the legacy partition starts at -infinity).
CREATE OR REPLACE FUNCTION heart_rate_partitions()
RETURNS TABLE (partition_name text, ts_range tstzrange)
LANGUAGE sql STABLE
SET timezone = 'UTC'  -- the bounds are read back from their text form: make it unambiguous
SET datestyle = 'ISO, YMD'
AS $$
    SELECT c.relname::text,
           tstzrange(CASE WHEN b[1] = 'MINVALUE' THEN '-infinity' ELSE btrim(b[1], '''')::timestamptz END,
                     CASE WHEN b[2] = 'MAXVALUE' THEN 'infinity' ELSE btrim(b[2], '''')::timestamptz END)
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \((.*)\) TO \((.*)\)') AS b
    WHERE i.inhparent = 'heart_rate'::regclass
$$;

-- Creates the UTC-month partitions the window [window_start, window_end) needs and returns their names; called by
-- the loader (warehouse.replace_heart_rate_day) in a short transaction of its own before each participant-day.
-- A part of the window that existing partitions already cover (a month created earlier, heart_rate_legacy) needs
-- nothing, so usually nothing is created and no lock is taken. Otherwise, under the schema's advisory lock (so
-- concurrent loaders and schema applies never race), each month is created as a table and ATTACHed: ATTACH takes
-- only SHARE UPDATE EXCLUSIVE on heart_rate, where CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE and
-- stall every reader and loader of heart_rate while it waits.
CREATE OR REPLACE FUNCTION heart_rate_create_partitions(window_start timestamptz, window_end timestamptz)
RETURNS text[]
LANGUAGE plpgsql
SET timezone = 'UTC'  -- months are UTC months whatever the session's time zone
AS $$
DECLARE
    month_start timestamptz;
    needed tstzrange;
    partition_name text;
    created text[] := '{}';
    locked boolean := false;
BEGIN
    FOR month_start IN
        SELECT m FROM generate_series(date_trunc('month', window_start), window_end, INTERVAL '1 month') AS m
        WHERE m < window_end
    LOOP
        needed := tstzrange(greatest(month_start, window_start), least(month_start + INTERVAL '1 month', window_end));
        CONTINUE WHEN (SELECT coalesce(range_agg(ts_range) @> needed, false) FROM heart_rate_partitions());
        IF NOT locked THEN
            PERFORM pg_advisory_xact_lock(7303001);  -- = warehouse.SCHEMA_LOCK_ID
            locked := true;
            -- Another loader may have created it while this one waited for the lock.
            CONTINUE WHEN (SELECT coalesce(range_agg(ts_range) @> needed, false) FROM heart_rate_partitions());
        END IF;
        partition_name := format('heart_rate_%s', to_char(month_start, 'YYYY_MM'));
        EXECUTE format('CREATE TABLE %I (LIKE heart_rate INCLUDING ALL)', partition_name);
        EXECUTE format('ALTER TABLE heart_rate ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       partition_name, month_start, month_start + INTERVAL '1 month');
        created := created || partition_name;
    END LOOP;
    RETURN created;
END
$$;
