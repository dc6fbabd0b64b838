SELECT u.user_name, u.role, u.sites
FROM api_token t JOIN api_user u USING (user_name)
WHERE t.token_hash = %(token_hash)s AND u.revoked_at IS NULL
