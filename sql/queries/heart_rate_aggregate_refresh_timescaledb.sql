-- One continuous aggregate, one window (must run outside a transaction block: autocommit).
CALL refresh_continuous_aggregate(%(view)s::regclass, %(start_utc)s::timestamptz, %(end_utc)s::timestamptz)
