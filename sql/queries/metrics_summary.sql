-- Per participant: the six metric families over all loaded days (make demo / fitbit-assets summary).
WITH hr AS (
    SELECT participant_id, count(*) AS days, avg(resting_heart_rate) AS resting_hr,
           avg(fat_burn_minutes + cardio_minutes + peak_minutes) AS zone_minutes
    FROM heart_rate_daily_summary GROUP BY participant_id
), spo2 AS (
    SELECT participant_id, count(DISTINCT local_date) AS nights, avg(spo2) AS spo2 FROM spo2 GROUP BY participant_id
), hrv AS (
    SELECT participant_id, avg(daily_rmssd) AS rmssd FROM hrv_daily GROUP BY participant_id
), br AS (
    SELECT participant_id, avg(full_sleep_breathing_rate) AS breathing_rate FROM breathing_rate_daily GROUP BY participant_id
), azm AS (
    SELECT participant_id, sum(active_zone_minutes) AS azm FROM active_zone_minutes GROUP BY participant_id
), activity AS (
    SELECT participant_id, count(*) AS days, avg(steps) AS steps FROM activity_daily_summary GROUP BY participant_id
)
SELECT p.participant_id,
       coalesce(activity.days, hr.days, 0)                           AS days,
       round(hr.resting_hr::numeric, 1)                              AS resting_hr,
       round(hr.zone_minutes::numeric)                               AS zone_minutes_per_day,
       coalesce(spo2.nights, 0)                                      AS spo2_nights,
       round(spo2.spo2::numeric, 1)                                  AS spo2_pct,
       round(hrv.rmssd::numeric, 1)                                  AS daily_rmssd_ms,
       round(br.breathing_rate::numeric, 1)                          AS breathing_rate,
       round(coalesce(azm.azm, 0)::numeric / nullif(activity.days, 0), 1) AS azm_per_day,
       round(activity.steps::numeric)                                AS steps_per_day
FROM participant p
LEFT JOIN hr USING (participant_id)
LEFT JOIN spo2 USING (participant_id)
LEFT JOIN hrv USING (participant_id)
LEFT JOIN br USING (participant_id)
LEFT JOIN azm USING (participant_id)
LEFT JOIN activity USING (participant_id)
WHERE hr.participant_id IS NOT NULL OR activity.participant_id IS NOT NULL OR spo2.participant_id IS NOT NULL
ORDER BY p.participant_id
