SELECT user_name, role, sites, password_hash FROM api_user WHERE user_name = %(user_name)s AND revoked_at IS NULL
