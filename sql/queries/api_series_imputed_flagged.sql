-- The imputed minutes only ({table}: heart_rate_1m_imputed) in [start, end), at most %(limit)s of them: merged
-- between raw samples, which are bounded by max_points too.
SELECT bucket, mean_bpm, imputed
FROM {table}
WHERE participant_id = %(participant_id)s AND bucket >= %(start)s AND bucket < %(end)s AND imputed
ORDER BY bucket
LIMIT %(limit)s
