-- Delete the rows of many participant-days of a table keyed by local_date ({table}), returning the keys of the rows
-- deleted (the caller counts them per day).
DELETE FROM {table} AS target
USING unnest(%(participant_ids)s::text[], %(local_dates)s::date[]) AS replaced (participant_id, local_date)
WHERE target.participant_id = replaced.participant_id AND target.local_date = replaced.local_date
RETURNING target.participant_id, target.local_date
