INSERT INTO device_sync (participant_id, synced_at, device, source_format, source_file) VALUES %s
ON CONFLICT (participant_id, synced_at, device) DO NOTHING
