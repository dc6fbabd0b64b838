-- The audit row of one read of participant data, in its own read-write transaction (API connections are read-only
-- by default), sent as one statement string: one round trip per request instead of three (BEGIN, append, COMMIT).
BEGIN READ WRITE;
SELECT audit_append(%(actor)s, 'read', %(endpoint)s, %(participants)s, %(time_range)s, %(detail)s);
COMMIT;
