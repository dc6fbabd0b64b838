-- Releases heart_rate_aggregate_refresh_lock.
SELECT pg_advisory_unlock(7303002)
