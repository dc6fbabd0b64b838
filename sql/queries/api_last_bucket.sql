-- Start of a participant's last 1-minute bucket ({table}: the metric's 1-minute rollup); one backward
-- probe of the (participant_id, bucket) primary key.
SELECT max(bucket) FROM {table} WHERE participant_id = %(participant_id)s
