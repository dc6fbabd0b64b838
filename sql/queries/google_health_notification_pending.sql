-- Notifications no run was requested for yet, oldest first (google_health_notification_sensor).
SELECT notification_id, participant_id, interval_start, interval_end
FROM google_health_notification
WHERE NOT processed
ORDER BY notification_id
LIMIT %(limit)s
