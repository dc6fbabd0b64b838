-- The participant's tokens, locked until the transaction ends: one refresher per account at a time.
SELECT refresh_token_enc, access_token_enc, access_token_expires_at, consent_state, consent_reason
FROM google_health_account
WHERE participant_id = %(participant_id)s
FOR UPDATE
