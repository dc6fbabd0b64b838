-- daily_adherence of one participant, local dates start..end inclusive (API adherence by participant).
SELECT participant_id, local_date, timezone, day_minutes, wear_minutes, adherence_pct, longest_gap_minutes,
       gap_count, valid_day, imputed_minutes, samples, valid_day_minutes, computed_at
FROM daily_adherence
WHERE participant_id = %(participant_id)s AND local_date BETWEEN %(start)s AND %(end)s
ORDER BY local_date
