-- Which of the candidate alert keys were already delivered (arrays of equal length, one element per key).
SELECT participant_id, local_date, kind
FROM alert_sent
WHERE (participant_id, local_date, kind) IN (
    SELECT * FROM unnest(%(participant_ids)s::text[], %(local_dates)s::date[], %(kinds)s::text[]))
