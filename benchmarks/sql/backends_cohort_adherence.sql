-- A year of daily adherence for every participant (wear varying by participant and day), as daily_adherence holds it.
INSERT INTO daily_adherence (participant_id, local_date, timezone, day_minutes, wear_minutes, adherence_pct,
                             longest_gap_minutes, gap_count, valid_day, imputed_minutes, samples,
                             worn_minute_min_samples, valid_day_minutes, impute_max_gap_minutes)
SELECT p.participant_id, d::date, p.timezone, 1440, w, 100.0 * w / 1440, 1440 - w, 1, w >= 600, 0, 4 * w, 1, 600, 5
FROM participant p, generate_series(%(first)s::date, %(last)s::date, INTERVAL '1 day') AS d,
     LATERAL (SELECT (400 + (hashtext(p.participant_id || d::text) & 1023))::int %% 1441 AS w) AS wear
