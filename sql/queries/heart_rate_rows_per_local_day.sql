-- Rows per participant and local calendar day, for summaries.
SELECT h.participant_id,
       (h.ts AT TIME ZONE p.timezone)::date AS local_date,
       count(*)                             AS samples,
       min(h.bpm)                           AS min_bpm,
       round(avg(h.bpm), 1)                 AS mean_bpm,
       max(h.bpm)                           AS max_bpm
FROM heart_rate h
JOIN participant p USING (participant_id)
GROUP BY 1, 2
ORDER BY 1, 2
