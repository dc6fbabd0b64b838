-- The participant a notification's healthUserId belongs to (stored at consent from users.getIdentity).
SELECT participant_id FROM google_health_account WHERE health_user_id = %(health_user_id)s
