-- Plain-PostgreSQL refresh of the rollup tables for one participant and a UTC window aligned to whole UTC
-- days (so every 1-min, 1-h and 1-day bucket in it is complete). Lowest level first; date_bin with a UTC
-- origin buckets exactly like TimescaleDB's time_bucket, whatever the session TimeZone.
DELETE FROM heart_rate_1m WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s;
INSERT INTO heart_rate_1m (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT participant_id, date_bin(INTERVAL '1 minute', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       count(*), sum(bpm), min(bpm), max(bpm)
FROM heart_rate
WHERE participant_id = %(participant_id)s AND ts >= %(start_utc)s AND ts < %(end_utc)s
GROUP BY 1, 2;

DELETE FROM heart_rate_1h WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s;
INSERT INTO heart_rate_1h (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT participant_id, date_bin(INTERVAL '1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       sum(samples), sum(bpm_sum), min(min_bpm), max(max_bpm)
FROM heart_rate_1m
WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s
GROUP BY 1, 2;

DELETE FROM heart_rate_1d WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s;
INSERT INTO heart_rate_1d (participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm)
SELECT participant_id, date_bin(INTERVAL '1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       sum(samples), sum(bpm_sum), min(min_bpm), max(max_bpm)
FROM heart_rate_1h
WHERE participant_id = %(participant_id)s AND bucket >= %(start_utc)s AND bucket < %(end_utc)s
GROUP BY 1, 2;
