-- Synthetic syncs are regenerated per participant-day: replace that day's UTC window.
DELETE FROM device_sync
WHERE participant_id = %(participant_id)s AND source_format = %(source_format)s
  AND synced_at >= %(start_utc)s AND synced_at < %(end_utc)s
