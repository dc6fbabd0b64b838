DELETE FROM heart_rate
WHERE participant_id = %(participant_id)s AND ts >= %(start_utc)s AND ts < %(end_utc)s
