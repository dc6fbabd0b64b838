-- The latest classified local day per participant within the week up to as_of (view participant_day_status:
-- ok / not_wearing / not_syncing). The date bounds keep the view's per-day work to those 8 days.
SELECT DISTINCT ON (participant_id) participant_id, local_date, status
FROM participant_day_status
WHERE local_date BETWEEN %(first)s AND %(last)s
ORDER BY participant_id, local_date DESC
