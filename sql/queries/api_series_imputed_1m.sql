-- The imputed 1-minute series ({table}: heart_rate_1m_imputed) of a participant, minutes in [start, end).
SELECT bucket, mean_bpm, imputed
FROM {table}
WHERE participant_id = %(participant_id)s AND bucket >= %(start)s AND bucket < %(end)s
ORDER BY bucket
