-- A (re-)consent from `fitbit-assets connect`: new tokens, the Google Health identity, the data types whose scope
-- was withheld, consent active again.
INSERT INTO google_health_account (participant_id, refresh_token_enc, access_token_enc, access_token_expires_at,
                                   scopes, consent_state, consent_reason, consent_changed_at, health_user_id,
                                   legacy_user_id, withheld_data_types, withheld_reason)
VALUES (%(participant_id)s, %(refresh_token_enc)s, %(access_token_enc)s, %(expires_at)s, %(scopes)s,
        'active', NULL, now(), %(health_user_id)s, %(legacy_user_id)s, %(withheld_data_types)s, %(withheld_reason)s)
ON CONFLICT (participant_id) DO UPDATE
SET refresh_token_enc = EXCLUDED.refresh_token_enc, access_token_enc = EXCLUDED.access_token_enc,
    access_token_expires_at = EXCLUDED.access_token_expires_at, scopes = EXCLUDED.scopes,
    consent_state = 'active', consent_reason = NULL, consent_changed_at = now(),
    health_user_id = EXCLUDED.health_user_id, legacy_user_id = EXCLUDED.legacy_user_id,
    withheld_data_types = EXCLUDED.withheld_data_types, withheld_reason = EXCLUDED.withheld_reason,
    token_version = google_health_account.token_version + 1, updated_at = now()
