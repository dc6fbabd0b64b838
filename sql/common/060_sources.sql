-- Real-export sources (fitbit_assets/domain/sources/): per-sample Takeout confidence, per-day lineage, device syncs.

-- Fitbit's 0-3 sensor confidence, only Takeout exports carry it (NULL for every other source). A nullable
-- column without default costs nothing on existing rows and is allowed on compressed hypertables.
ALTER TABLE heart_rate ADD COLUMN IF NOT EXISTS confidence smallint;

-- Lineage of every loaded participant-day (each day comes from one export format, one or more files):
-- join heart_rate rows to it on (participant_id, local day). Written in the same transaction as the day's
-- DELETE + COPY (warehouse.replace_heart_rate_day), so rows and lineage never disagree.
CREATE TABLE IF NOT EXISTS heart_rate_lineage (
    participant_id text        NOT NULL,
    local_date     date        NOT NULL,
    source_format  text        NOT NULL,  -- synthetic | day_csv | fitabase_csv | takeout_json | webapi_json
    source_files   text[]      NOT NULL,  -- file names as dropped in landing/<participant_id>/
    rows           integer     NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, local_date)
);

COMMENT ON TABLE heart_rate_lineage IS 'Source format, file(s) and ingest time of each loaded participant local day';

-- Device sync events: Fitabase syncEvents, lastSyncTime of saved /devices.json responses, synthetic syncs.
-- "No sync since the day ended" (not syncing) vs "synced but no heart rate" (not wearing) is derived from it.
CREATE TABLE IF NOT EXISTS device_sync (
    participant_id text        NOT NULL,
    synced_at      timestamptz NOT NULL,
    device         text        NOT NULL,
    source_format  text        NOT NULL,  -- synthetic | fitabase_sync_csv | webapi_devices_json
    source_file    text        NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, synced_at, device)
);

COMMENT ON TABLE device_sync IS 'Device sync events per participant (Dagster asset device_sync_events)';

-- Fitabase dailyActivity exports carry calories out but no BMR / activity calorie split (sources/fitabase_daily.py).
ALTER TABLE activity_daily_summary ALTER COLUMN activity_calories DROP NOT NULL;
ALTER TABLE activity_daily_summary ALTER COLUMN calories_bmr DROP NOT NULL;
