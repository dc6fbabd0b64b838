-- The aggregates check for many participant windows in one statement: heart_rate_1m/1h/1d against a recomputation
-- from raw rows. Raw rows are read once into 1-minute buckets; the hour and day buckets roll those up (counts, sums,
-- minima and maxima compose). Per window: one row with the number of recomputed buckets (level NULL), then a row per
-- bucket whose counts, sums, minimum or maximum differ, whose mean differs by more than %(mean_tolerance)s, or that
-- only one side has.
WITH windows AS (
    SELECT w.window_index, w.participant_id, w.start_utc, w.end_utc
    FROM unnest(%(participant_ids)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[])
         WITH ORDINALITY AS w (participant_id, start_utc, end_utc, window_index)
),
raw_minutes AS (
    SELECT w.window_index,
           date_bin('1 minute', h.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
           count(*) AS samples, sum(h.bpm) AS bpm_sum, min(h.bpm) AS min_bpm, max(h.bpm) AS max_bpm
    FROM windows w
    JOIN heart_rate h ON h.participant_id = w.participant_id AND h.ts >= w.start_utc AND h.ts < w.end_utc
    GROUP BY 1, 2
),
recomputed AS (
    SELECT 'heart_rate_1m' AS level, window_index, bucket, samples, bpm_sum, min_bpm, max_bpm
    FROM raw_minutes
    UNION ALL
    SELECT 'heart_rate_1h', window_index, date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           sum(samples), sum(bpm_sum), min(min_bpm), max(max_bpm)
    FROM raw_minutes GROUP BY 2, 3
    UNION ALL
    SELECT 'heart_rate_1d', window_index, date_bin('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           sum(samples), sum(bpm_sum), min(min_bpm), max(max_bpm)
    FROM raw_minutes GROUP BY 2, 3
),
stored AS (
    SELECT 'heart_rate_1m' AS level, w.window_index, s.bucket, s.samples, s.bpm_sum, s.min_bpm, s.max_bpm, s.mean_bpm
    FROM windows w
    JOIN heart_rate_1m s ON s.participant_id = w.participant_id AND s.bucket >= w.start_utc AND s.bucket < w.end_utc
    UNION ALL
    SELECT 'heart_rate_1h', w.window_index, s.bucket, s.samples, s.bpm_sum, s.min_bpm, s.max_bpm, s.mean_bpm
    FROM windows w
    JOIN heart_rate_1h s ON s.participant_id = w.participant_id AND s.bucket >= w.start_utc AND s.bucket < w.end_utc
    UNION ALL
    SELECT 'heart_rate_1d', w.window_index, s.bucket, s.samples, s.bpm_sum, s.min_bpm, s.max_bpm, s.mean_bpm
    FROM windows w
    JOIN heart_rate_1d s ON s.participant_id = w.participant_id AND s.bucket >= w.start_utc AND s.bucket < w.end_utc
)
SELECT window_index, NULL AS level, NULL AS bucket, count(*) AS compared,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM recomputed
GROUP BY window_index
UNION ALL
SELECT window_index, level, bucket, NULL,
       s.samples, s.bpm_sum, s.min_bpm, s.max_bpm, s.mean_bpm,
       r.samples, r.bpm_sum, r.min_bpm, r.max_bpm, r.bpm_sum::double precision / r.samples::double precision
FROM stored s
FULL JOIN recomputed r USING (level, window_index, bucket)
WHERE s.samples IS NULL OR r.samples IS NULL
   OR (s.samples, s.bpm_sum, s.min_bpm, s.max_bpm) IS DISTINCT FROM (r.samples, r.bpm_sum, r.min_bpm, r.max_bpm)
   OR abs(s.mean_bpm - r.bpm_sum::double precision / r.samples::double precision) > %(mean_tolerance)s
ORDER BY 1, 2 NULLS FIRST, 3
