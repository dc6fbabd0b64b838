-- One participant as the warehouse knows it, with the span of computed adherence days (the API answers 404 when
-- there is no row).
SELECT p.participant_id, p.timezone, p.enrolled_on, p.source, p.site,
       (SELECT min(d.local_date) FROM daily_adherence d WHERE d.participant_id = p.participant_id) AS first_local_date,
       (SELECT max(d.local_date) FROM daily_adherence d WHERE d.participant_id = p.participant_id) AS last_local_date
FROM participant p
WHERE p.participant_id = %(participant_id)s
