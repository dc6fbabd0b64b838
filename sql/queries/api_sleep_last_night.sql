-- The last night with a sleep_daily row of one participant (the API's default sleep range ends there).
SELECT max(local_date) FROM sleep_daily WHERE participant_id = %(participant_id)s
