SELECT u.user_name, u.role, u.sites, u.created_at, u.revoked_at, u.password_hash IS NOT NULL AS has_password,
       (SELECT count(*) FROM api_token t WHERE t.user_name = u.user_name) AS tokens
FROM api_user u
ORDER BY u.user_name
