-- A sync file is replaced as a whole (a corrected re-export leaves no stale events).
DELETE FROM device_sync WHERE participant_id = %(participant_id)s AND source_file = %(source_file)s
