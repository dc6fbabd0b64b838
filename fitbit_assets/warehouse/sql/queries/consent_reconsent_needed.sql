-- Google Health participants whose consent is gone, for the coordinator alerts (never a token: the view has none).
SELECT participant_id, consent_state, consent_reason, consent_changed_at
FROM participant_consent
WHERE consent_state = 'reconsent_needed'
ORDER BY participant_id
