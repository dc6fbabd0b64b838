DELETE FROM api_session WHERE session_hash = %(session_hash)s OR expires_at <= now()
