DELETE FROM heart_rate_1m_imputed
WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s
