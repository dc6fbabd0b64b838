SELECT u.user_name, u.role, u.sites, s.csrf_token
FROM api_session s JOIN api_user u USING (user_name)
WHERE s.session_hash = %(session_hash)s AND s.expires_at > now() AND u.revoked_at IS NULL
