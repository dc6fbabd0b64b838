DELETE FROM heart_rate_lineage WHERE participant_id = %(participant_id)s AND local_date = %(local_date)s
