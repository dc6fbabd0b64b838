SELECT seq, at, actor, action, endpoint, array_to_string(participants, ' ') AS participants, time_range,
       detail::text AS detail, hash
FROM audit_log
WHERE at >= %(since)s AND seq IS NOT NULL
ORDER BY seq
