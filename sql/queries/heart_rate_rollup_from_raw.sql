-- The same rollup recomputed straight from raw rows (the aggregates check compares the two).
SELECT date_bin(%(width)s::interval, ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       count(*)                                        AS samples,
       sum(bpm)                                        AS bpm_sum,
       min(bpm)                                        AS min_bpm,
       max(bpm)                                        AS max_bpm,
       sum(bpm)::double precision / count(*)::double precision AS mean_bpm
FROM heart_rate
WHERE participant_id = %(participant_id)s AND ts >= %(start_utc)s AND ts < %(end_utc)s
GROUP BY 1
ORDER BY 1
