-- Per-participant adherence over the computed days, with the trailing-7-day rollup (demo / CLI summary).
-- Invalid days are split by cause (view participant_day_status): not wearing (synced after the day, too little
-- heart rate) vs not syncing (no sync since the day ended); "cause unknown" without any sync records.
SELECT d.participant_id,
       count(*)                                                   AS days,
       count(*) FILTER (WHERE d.valid_day)                        AS valid_days,
       round(avg(d.wear_minutes)::numeric, 0)                     AS mean_wear_minutes,
       round((100.0 * sum(d.wear_minutes) / sum(d.day_minutes))::numeric, 1) AS adherence_pct,
       max(d.longest_gap_minutes)                                 AS longest_gap_minutes,
       sum(d.imputed_minutes)                                     AS imputed_minutes,
       r.trailing_7d_adherence_pct,
       r.consecutive_invalid_days,
       CASE WHEN count(*) FILTER (WHERE NOT d.valid_day) = 0 THEN 'ok'
            ELSE 'FLAGGED: ' || concat_ws(', ',
                nullif(count(*) FILTER (WHERE NOT d.valid_day AND s.sync_data_available AND s.status = 'not_wearing'), 0)
                    || ' not wearing',
                nullif(count(*) FILTER (WHERE NOT d.valid_day AND s.sync_data_available AND s.status = 'not_syncing'), 0)
                    || ' not syncing',
                nullif(count(*) FILTER (WHERE NOT d.valid_day AND NOT coalesce(
                    s.sync_data_available AND s.status IN ('not_wearing', 'not_syncing'), false)), 0)
                    || ' invalid, cause unknown')
       END                                                        AS status
FROM daily_adherence d
JOIN participant_adherence r USING (participant_id)
LEFT JOIN participant_day_status s USING (participant_id, local_date)
GROUP BY d.participant_id, r.trailing_7d_adherence_pct, r.consecutive_invalid_days
ORDER BY d.participant_id
