-- The 1-minute rollup of one participant's local day, as minute offsets from local midnight.
SELECT (extract(epoch FROM bucket - %(start_utc)s::timestamptz) / 60)::integer AS minute, samples, mean_bpm
FROM heart_rate_1m
WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s
ORDER BY bucket
