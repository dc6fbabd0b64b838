-- Every Google Health account with what its push subscription needs (google_health/subscriptions.py): the user,
-- the consent state, the withheld data types, and the subscription as last reconciled.
SELECT participant_id, health_user_id, consent_state, withheld_data_types, subscription_name, subscribed_data_types
FROM google_health_account
ORDER BY participant_id
