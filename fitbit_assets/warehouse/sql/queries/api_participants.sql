-- Every participant with the span of computed adherence days (API GET /api/participants).
SELECT p.participant_id, p.timezone, p.enrolled_on, p.source, p.site,
       min(d.local_date) AS first_local_date, max(d.local_date) AS last_local_date
FROM participant p
LEFT JOIN daily_adherence d USING (participant_id)
GROUP BY p.participant_id, p.timezone, p.enrolled_on, p.source, p.site
ORDER BY p.participant_id
