-- Status of a participant's local days (view participant_day_status), e.g. for an alert message.
SELECT participant_id, local_date, status, wear_minutes, valid_day, first_sync_after_day_end, last_sync_at,
       sync_data_available
FROM participant_day_status
WHERE participant_id = %(participant_id)s AND local_date BETWEEN %(first)s AND %(last)s
ORDER BY local_date
