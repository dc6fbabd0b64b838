-- One pipeline refresh of the continuous aggregates at a time, across sessions and runs: two overlapping
-- refresh_continuous_aggregate calls at once can both materialize the same buckets (TimescaleDB 2.23.1: a 1-hour
-- bucket held twice its samples after two loaders refreshed the same UTC days). A session lock, not a transaction
-- one: each CALL commits its own transactions. Released by heart_rate_aggregate_refresh_unlock.
SELECT pg_advisory_lock(7303002)
