-- A documented error reason's account state (ACCOUNT_NOT_LINKED, the legacy-account 403) or back to active; the
-- tokens are kept. A participant whose consent is gone stays so until `connect`.
UPDATE google_health_account
SET consent_state = %(state)s, consent_reason = %(reason)s, consent_changed_at = now(), updated_at = now()
WHERE participant_id = %(participant_id)s AND consent_state <> %(state)s AND consent_state <> 'reconsent_needed'
