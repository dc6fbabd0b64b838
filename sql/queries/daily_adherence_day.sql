-- One participant-day of daily_adherence with the participant's rollup as of that day (for the valid-day
-- check): trailing 7 local days ending at the day, and invalid days in a row ending at the day.
SELECT d.participant_id, d.local_date, d.day_minutes, d.wear_minutes, d.adherence_pct, d.longest_gap_minutes,
       d.gap_count, d.valid_day, d.imputed_minutes, d.samples, d.valid_day_minutes,
       w.trailing_7d_adherence_pct, w.valid_days_7d,
       (d.local_date - COALESCE(s.last_valid_date, s.first_local_date - 1))::integer AS consecutive_invalid_days
FROM daily_adherence d
CROSS JOIN LATERAL (
    SELECT round((100.0 * sum(t.wear_minutes) / NULLIF(sum(t.day_minutes), 0))::numeric, 2)::double precision
               AS trailing_7d_adherence_pct,
           count(*) FILTER (WHERE t.valid_day) AS valid_days_7d
    FROM daily_adherence t
    WHERE t.participant_id = d.participant_id AND t.local_date > d.local_date - 7 AND t.local_date <= d.local_date
) w
CROSS JOIN LATERAL (
    SELECT max(t.local_date) FILTER (WHERE t.valid_day) AS last_valid_date, min(t.local_date) AS first_local_date
    FROM daily_adherence t
    WHERE t.participant_id = d.participant_id AND t.local_date <= d.local_date
) s
WHERE d.participant_id = %(participant_id)s AND d.local_date = %(local_date)s
