SELECT participant_id, local_date, input_fingerprint
FROM day_loads
WHERE stage = %(stage)s AND participant_id = ANY(%(participant_ids)s) AND local_date BETWEEN %(first)s AND %(last)s
