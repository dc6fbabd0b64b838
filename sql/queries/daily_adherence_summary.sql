-- Per-participant adherence over the computed days, with the trailing-7-day rollup (demo / CLI summary). What a
-- coordinator should do about each participant follows it (fitbit_assets.domain.coordinator_status).
SELECT d.participant_id,
       count(*)                                                   AS days,
       count(*) FILTER (WHERE d.valid_day)                        AS valid_days,
       round(avg(d.wear_minutes)::numeric, 0)                     AS mean_wear_minutes,
       round((100.0 * sum(d.wear_minutes) / sum(d.day_minutes))::numeric, 1) AS adherence_pct,
       max(d.longest_gap_minutes)                                 AS longest_gap_minutes,
       sum(d.imputed_minutes)                                     AS imputed_minutes,
       r.trailing_7d_adherence_pct,
       r.consecutive_invalid_days
FROM daily_adherence d
JOIN participant_adherence r USING (participant_id)
GROUP BY d.participant_id, r.trailing_7d_adherence_pct, r.consecutive_invalid_days
ORDER BY d.participant_id
