INSERT INTO api_user (user_name, role, sites, password_hash)
VALUES (%(user_name)s, %(role)s, %(sites)s, %(password_hash)s)
ON CONFLICT (user_name) DO UPDATE
SET role = EXCLUDED.role, sites = EXCLUDED.sites, password_hash = EXCLUDED.password_hash, revoked_at = NULL
