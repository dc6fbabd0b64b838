-- A cohort-wide range (every participant, no participant filter): what partition pruning by time is for.
SELECT count(*), round(avg(bpm), 2) FROM heart_rate WHERE ts >= %(start)s AND ts < %(end)s
