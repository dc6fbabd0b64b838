-- A revoked user keeps their row (the audit trail names them) but loses every token and session.
WITH revoked AS (
    UPDATE api_user SET revoked_at = now() WHERE user_name = %(user_name)s AND revoked_at IS NULL RETURNING user_name
), tokens AS (
    DELETE FROM api_token WHERE user_name IN (SELECT user_name FROM revoked)
), sessions AS (
    DELETE FROM api_session WHERE user_name IN (SELECT user_name FROM revoked)
)
SELECT count(*) FROM revoked
