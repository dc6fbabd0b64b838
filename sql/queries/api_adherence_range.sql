-- daily_adherence of the given participants, local dates start..end inclusive (API adherence by date range).
SELECT participant_id, local_date, timezone, day_minutes, wear_minutes, adherence_pct, longest_gap_minutes,
       gap_count, valid_day, imputed_minutes, samples, valid_day_minutes, computed_at
FROM daily_adherence
WHERE local_date BETWEEN %(start)s AND %(end)s AND participant_id = ANY(%(participants)s)
ORDER BY participant_id, local_date
