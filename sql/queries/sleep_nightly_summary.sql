-- Per participant: nightly sleep minutes (summary totalMinutesAsleep per dateOfSleep) over the loaded nights, and the
-- last 7 nights one by one (make demo / fitbit-assets summary). 0 = no sleep recorded that night.
WITH nights AS (
    SELECT participant_id, local_date, minutes_asleep, time_in_bed,
           row_number() OVER (PARTITION BY participant_id ORDER BY local_date DESC) AS from_last
    FROM sleep_daily
)
SELECT participant_id,
       count(*)                                                              AS nights,
       count(*) FILTER (WHERE minutes_asleep > 0)                            AS nights_with_sleep,
       round(avg(minutes_asleep) FILTER (WHERE minutes_asleep > 0))          AS mean_minutes_asleep,
       round(avg(time_in_bed) FILTER (WHERE minutes_asleep > 0))             AS mean_time_in_bed,
       string_agg(minutes_asleep::text, ' ' ORDER BY local_date) FILTER (WHERE from_last <= 7) AS last_nights_minutes_asleep
FROM nights
GROUP BY participant_id
ORDER BY participant_id
