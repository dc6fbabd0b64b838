-- Raw samples of one participant in [start, end), bounded: the caller asks for max_points + 1 rows and falls
-- back to the 1-minute rollup when they do not fit. {table}/{time}/{value} come from the metric registry.
SELECT {time}, {value}
FROM {table}
WHERE participant_id = %(participant_id)s AND {time} >= %(start)s AND {time} < %(end)s
ORDER BY {time}
LIMIT %(limit)s
