-- Every chained row of the audit trail with the hash recomputed from its fields and the hash of the row before it
-- (`fitbit-assets audit verify`): an edited row, a removed row or a re-ordered one breaks the chain.
SELECT seq, at, prev_hash, hash,
       lag(hash, 1, '') OVER (ORDER BY seq) AS expected_prev_hash,
       lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS previous_seq,
       audit_row_hash(prev_hash, seq, at, actor, action, endpoint, participants, time_range, detail) AS recomputed
FROM audit_log
WHERE seq IS NOT NULL
ORDER BY seq
