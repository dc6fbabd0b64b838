-- The participant's push subscription after a reconcile with Google (NULL name and no types: none exists).
UPDATE google_health_account
SET subscription_name = %(subscription_name)s,
    subscribed_data_types = %(data_types)s,
    subscription_synced_at = now()
WHERE participant_id = %(participant_id)s
