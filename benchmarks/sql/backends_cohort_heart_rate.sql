-- The cohort's history, generated on the server: one sample every `step` for every participant over
-- [start, end) (bpm a saw-tooth 60..99): a year of chunks/partitions behind every participant's last minute.
INSERT INTO heart_rate (participant_id, ts, bpm)
SELECT p.participant_id, ts, (60 + (extract(epoch FROM ts)::bigint / 60) %% 40)::smallint
FROM participant p, generate_series(%(start)s::timestamptz, %(end)s::timestamptz - %(step)s::interval,
                                    %(step)s::interval) AS ts
