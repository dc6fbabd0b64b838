-- The UTC-month partitions of heart_rate that a load of [start_utc, end_utc) needs; returns those it created.
SELECT heart_rate_create_partitions(%(start_utc)s, %(end_utc)s)
