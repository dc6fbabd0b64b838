INSERT INTO api_token (token_hash, user_name, label) VALUES (%(token_hash)s, %(user_name)s, %(label)s)
