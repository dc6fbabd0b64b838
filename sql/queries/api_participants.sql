-- Every participant with the span of computed adherence days (API GET /api/participants): two index probes each.
SELECT p.participant_id, p.timezone, p.enrolled_on, p.source, p.site,
       (SELECT min(d.local_date) FROM daily_adherence d WHERE d.participant_id = p.participant_id) AS first_local_date,
       (SELECT max(d.local_date) FROM daily_adherence d WHERE d.participant_id = p.participant_id) AS last_local_date
FROM participant p
ORDER BY p.participant_id
