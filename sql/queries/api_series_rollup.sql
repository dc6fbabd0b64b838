-- One rollup level of a metric ({table}: heart_rate_1m / _1h / _1d) for a participant, buckets in [start, end).
SELECT bucket, {mean}, {min}, {max}, {samples}
FROM {table}
WHERE participant_id = %(participant_id)s AND bucket >= %(start)s AND bucket < %(end)s
ORDER BY bucket
