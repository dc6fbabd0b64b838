-- A (re-)consent from `fitbit-assets connect`: new tokens, consent active again.
INSERT INTO google_health_account (participant_id, refresh_token_enc, access_token_enc, access_token_expires_at,
                                   scopes, consent_state, consent_reason, consent_changed_at)
VALUES (%(participant_id)s, %(refresh_token_enc)s, %(access_token_enc)s, %(expires_at)s, %(scopes)s,
        'active', NULL, now())
ON CONFLICT (participant_id) DO UPDATE
SET refresh_token_enc = EXCLUDED.refresh_token_enc, access_token_enc = EXCLUDED.access_token_enc,
    access_token_expires_at = EXCLUDED.access_token_expires_at, scopes = EXCLUDED.scopes,
    consent_state = 'active', consent_reason = NULL, consent_changed_at = now(),
    token_version = google_health_account.token_version + 1, updated_at = now()
