-- The classified local days of every participant in a date window (participant_day_status_between: the view
-- participant_day_status for those days only, planned against their heart_rate chunks; ok / not_wearing /
-- not_syncing), with each day's length in minutes (23 h / 25 h on DST days), for the coordinator status; only the
-- participants whose time zone the server knows (the view's AT TIME ZONE would fail the whole statement).
SELECT participant_id, local_date, wear_minutes,
       (extract(epoch FROM day_end_utc - (local_date::timestamp AT TIME ZONE timezone)) / 60)::integer AS day_minutes,
       valid_day, status
FROM participant_day_status_between(%(first)s, %(last)s)
WHERE participant_id = ANY(%(participants)s)
ORDER BY participant_id, local_date
