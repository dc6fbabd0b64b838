-- The per-day advisory locks of a day replace (keys "<table>/<participant>/<local date>"), for many days at once,
-- taken in one order so two concurrent batches cannot deadlock. Held until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended(lock_key, 0))
FROM unnest(%(lock_keys)s::text[]) AS lock_key
ORDER BY lock_key
