INSERT INTO daily_adherence (
    participant_id, local_date, timezone, day_minutes, wear_minutes, adherence_pct, longest_gap_minutes,
    gap_count, valid_day, imputed_minutes, samples, worn_minute_min_samples, valid_day_minutes,
    impute_max_gap_minutes, computed_at)
VALUES (
    %(participant_id)s, %(local_date)s, %(timezone)s, %(day_minutes)s, %(wear_minutes)s, %(adherence_pct)s,
    %(longest_gap_minutes)s, %(gap_count)s, %(valid_day)s, %(imputed_minutes)s, %(samples)s,
    %(worn_minute_min_samples)s, %(valid_day_minutes)s, %(impute_max_gap_minutes)s, now())
ON CONFLICT (participant_id, local_date) DO UPDATE SET
    timezone = EXCLUDED.timezone, day_minutes = EXCLUDED.day_minutes, wear_minutes = EXCLUDED.wear_minutes,
    adherence_pct = EXCLUDED.adherence_pct, longest_gap_minutes = EXCLUDED.longest_gap_minutes,
    gap_count = EXCLUDED.gap_count, valid_day = EXCLUDED.valid_day, imputed_minutes = EXCLUDED.imputed_minutes,
    samples = EXCLUDED.samples, worn_minute_min_samples = EXCLUDED.worn_minute_min_samples,
    valid_day_minutes = EXCLUDED.valid_day_minutes, impute_max_gap_minutes = EXCLUDED.impute_max_gap_minutes,
    computed_at = now()
