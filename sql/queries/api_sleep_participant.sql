-- Nightly sleep of one participant, dateOfSleep start..end inclusive (API sleep by participant; dashboard).
SELECT local_date, minutes_asleep, time_in_bed, sleep_records, minutes_awake, main_sleep_start, main_sleep_end,
       main_efficiency
FROM sleep_daily
WHERE participant_id = %(participant_id)s AND local_date BETWEEN %(start)s AND %(end)s
ORDER BY local_date
