SELECT sent_at, user_name FROM contact_sent
WHERE participant_id = %(participant_id)s AND sent_at >= %(since)s
ORDER BY sent_at DESC LIMIT 1
