-- The API load benchmark's cohort, built in bulk: participants load-001.. with the rollups the API reads
-- (1 h and 1 d for the whole period, 1 min for its last 7 days), daily adherence and one device sync a day, and raw
-- samples every 5 s on the last local day (Europe/Berlin in summer: UTC+2): a 1-day series reads them first (more
-- than max_points, so it falls back to the 1-minute rollup, as a real day does). None after that day's end: the
-- day after has no adherence row, so the cohort's day status would count its samples.
INSERT INTO participant (participant_id, timezone, enrolled_on, source, site)
SELECT 'load-' || lpad(n::text, 3, '0'), 'Europe/Berlin', %(first)s, 'synthetic',
       CASE WHEN n %% 2 = 0 THEN 'north' ELSE 'south' END
FROM generate_series(1, %(participants)s) AS n;

INSERT INTO heart_rate_1h (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT p.participant_id, b, 700, 700 * (58 + (extract(hour FROM b)::int * 7 + length(p.participant_id)) %% 40), 48, 150
FROM participant p
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz + interval '23 hours', interval '1 hour') AS b
WHERE p.participant_id LIKE 'load-%%';

INSERT INTO heart_rate_1d (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT participant_id, date_trunc('day', bucket), sum(samples), sum(bpm_sum), min(min_bpm), max(max_bpm)
FROM heart_rate_1h WHERE participant_id LIKE 'load-%%'
GROUP BY participant_id, date_trunc('day', bucket);

INSERT INTO heart_rate_1m (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT p.participant_id, b, 12, 12 * (58 + (extract(minute FROM b)::int + extract(hour FROM b)::int) %% 40), 50, 140
FROM participant p
CROSS JOIN generate_series(%(last)s::timestamptz - interval '6 days', %(last)s::timestamptz + interval '1439 minutes',
                           interval '1 minute') AS b
WHERE p.participant_id LIKE 'load-%%';

INSERT INTO heart_rate (participant_id, ts, bpm)
SELECT p.participant_id, t, 55 + (extract(epoch FROM t)::bigint / 5 + length(p.participant_id)) %% 60
FROM participant p
CROSS JOIN generate_series(%(last)s::timestamptz - interval '2 hours', %(last)s::timestamptz + interval '79195 seconds',
                           interval '5 seconds') AS t
WHERE p.participant_id LIKE 'load-%%';

INSERT INTO daily_adherence (participant_id, local_date, timezone, day_minutes, wear_minutes, adherence_pct,
    longest_gap_minutes, gap_count, valid_day, imputed_minutes, samples, worn_minute_min_samples, valid_day_minutes,
    impute_max_gap_minutes)
SELECT p.participant_id, d::date, p.timezone, 1440, w, 100.0 * w / 1440, 1440 - w, 3, w >= 600, 4, w * 12, 1, 600, 5
FROM participant p
CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
CROSS JOIN LATERAL (SELECT 500 + (extract(doy FROM d)::int * 37 + length(p.participant_id)) %% 900 AS w) AS wear
WHERE p.participant_id LIKE 'load-%%';

INSERT INTO device_sync (participant_id, synced_at, device, source_format, source_file)
SELECT p.participant_id, d + interval '20 hours', 'Charge 6', 'synthetic', 'bench'
FROM participant p
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 day') AS d
WHERE p.participant_id LIKE 'load-%%';

ANALYZE;
