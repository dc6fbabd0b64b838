INSERT INTO participant (participant_id, timezone, enrolled_on, source, site)
VALUES (%(participant_id)s, %(timezone)s, %(enrolled_on)s, %(source)s, %(site)s)
ON CONFLICT (participant_id) DO UPDATE
SET timezone = EXCLUDED.timezone, enrolled_on = EXCLUDED.enrolled_on, source = EXCLUDED.source,
    site = EXCLUDED.site, updated_at = now()
WHERE (participant.timezone, participant.enrolled_on, participant.source, participant.site)
      IS DISTINCT FROM (EXCLUDED.timezone, EXCLUDED.enrolled_on, EXCLUDED.source, EXCLUDED.site)
