-- A refresh: new access token and expiry, and the rotated refresh token when the server sent one, in one statement.
UPDATE google_health_account
SET access_token_enc = %(access_token_enc)s, access_token_expires_at = %(expires_at)s,
    refresh_token_enc = COALESCE(%(refresh_token_enc)s, refresh_token_enc),
    token_version = token_version + 1, updated_at = now()
WHERE participant_id = %(participant_id)s
