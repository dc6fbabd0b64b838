-- The latest classified local day per participant within the week up to as_of (view participant_day_status:
-- ok / not_wearing / not_syncing). The date bounds keep the view's per-day work to those 8 days; only the
-- participants whose time zone the server knows (the view's AT TIME ZONE would fail the whole statement).
SELECT DISTINCT ON (participant_id) participant_id, local_date, status
FROM participant_day_status
WHERE local_date BETWEEN %(first)s AND %(last)s AND participant_id = ANY(%(participants)s)
ORDER BY participant_id, local_date DESC
