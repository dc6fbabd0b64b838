-- The notifications a sensor tick turned into run requests.
UPDATE google_health_notification SET processed = true WHERE notification_id = ANY(%(ids)s)
