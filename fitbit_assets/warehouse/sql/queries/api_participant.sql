-- One participant as the warehouse knows it (the API answers 404 when there is no row).
SELECT participant_id, timezone, enrolled_on, source, site
FROM participant
WHERE participant_id = %(participant_id)s
