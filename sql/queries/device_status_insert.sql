-- One paired device's sync state as users.pairedDevices reported it at observed_at (a re-pull at the same instant
-- replaces it).
INSERT INTO device_status (participant_id, device_id, device_version, last_sync_at, battery_level, battery_status,
                           observed_at)
VALUES (%(participant_id)s, %(device_id)s, %(device_version)s, %(last_sync_at)s, %(battery_level)s,
        %(battery_status)s, %(observed_at)s)
ON CONFLICT (participant_id, device_id, observed_at) DO UPDATE
SET device_version = EXCLUDED.device_version, last_sync_at = EXCLUDED.last_sync_at,
    battery_level = EXCLUDED.battery_level, battery_status = EXCLUDED.battery_status
