-- Consent gone (invalid_grant, 401 after a refresh): tokens dropped, state shown by the dashboard and alerts.
UPDATE google_health_account
SET consent_state = 'reconsent_needed', consent_reason = %(reason)s, consent_changed_at = now(),
    refresh_token_enc = NULL, access_token_enc = NULL, access_token_expires_at = NULL, updated_at = now()
WHERE participant_id = %(participant_id)s AND consent_state NOT IN ('reconsent_needed', 'legacy_account')
