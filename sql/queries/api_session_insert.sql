INSERT INTO api_session (session_hash, csrf_token, user_name, expires_at)
VALUES (%(session_hash)s, %(csrf_token)s, %(user_name)s, now() + %(lifetime)s)
