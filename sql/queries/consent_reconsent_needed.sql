-- Google Health participants whose account cannot be read (consent gone, ACCOUNT_NOT_LINKED, legacy Fitbit account)
-- or whose withheld scopes leave data types out, for the coordinator alerts (never a token: the view has none).
SELECT participant_id, consent_state, consent_reason, consent_changed_at, withheld_data_types, withheld_reason
FROM participant_consent
WHERE consent_state <> 'active' OR cardinality(withheld_data_types) > 0
ORDER BY participant_id
