-- Imputed minutes per coarser UTC bucket (step 1 hour or 1 day, aligned like the rollups' buckets).
SELECT date_bin(%(step)s, bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, count(*) AS imputed_minutes
FROM {table}
WHERE participant_id = %(participant_id)s AND bucket >= %(start)s AND bucket < %(end)s AND imputed
GROUP BY 1
ORDER BY 1
