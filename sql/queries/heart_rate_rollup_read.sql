-- One rollup level ({level} is heart_rate_1m, heart_rate_1h or heart_rate_1d) for a participant and window.
SELECT bucket, samples, bpm_sum, min_bpm, max_bpm, mean_bpm
FROM {level}
WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s
ORDER BY bucket
