-- The device's own state per participant (users.pairedDevices, table device_status) for the coordinator status:
-- each device's newest observation, then the participant's device that synced last (a spare tracker left in a
-- drawer must not hide the one worn). Joined to the cohort overview in Python (serving/query/devices.py).
SELECT DISTINCT ON (latest.participant_id)
       latest.participant_id, p.timezone, latest.last_sync_at, latest.battery_level, latest.battery_status
FROM (
    SELECT DISTINCT ON (participant_id, device_id) participant_id, device_id, last_sync_at, battery_level,
           battery_status
    FROM device_status
    ORDER BY participant_id, device_id, observed_at DESC
) latest
JOIN participant p ON p.participant_id = latest.participant_id
ORDER BY latest.participant_id, latest.last_sync_at DESC NULLS LAST
