-- Why a participant-day has too little heart rate (docs/real-exports.md "Device sync"), for adherence reports and alerts:
--   ok           at least 600 worn minutes (daily_adherence.valid_day when computed, else counted here)
--   not_wearing  the device synced after the local day ended, yet the day is not valid: ask to wear it
--   not_syncing  no sync since the local day ended: the data may still be on the device, ask to sync
-- One row per participant and local day from enrolment to the participant's local yesterday; the statuses are
-- fitbit_assets.domain.device_sync.DayStatus. sync_data_available = false means no sync record was ever
-- ingested for the participant (e.g. no syncEvents file dropped): "not_syncing" is then only a presumption.
-- participant_day_status_between(first_date, last_date) is the same for the local days first_date..last_date only:
-- with constant dates it plans against the few heart_rate chunks of those days (the cohort overview's window), not
-- a year of them (at 100 participants x 1 year on TimescaleDB that planning and probing took ~250 ms).
CREATE OR REPLACE FUNCTION participant_day_status_between(first_date date, last_date date)
RETURNS TABLE (
    participant_id text, local_date date, timezone text, day_end_utc timestamptz, wear_minutes integer,
    valid_day boolean, adherence_computed boolean, first_sync_after_day_end timestamptz, last_sync_at timestamptz,
    sync_data_available boolean, status text
) LANGUAGE sql STABLE AS $$
    WITH days AS (
        SELECT p.participant_id,
               p.timezone,
               d::date                                          AS local_date,
               (d::date)::timestamp AT TIME ZONE p.timezone     AS day_start_utc,
               (d::date + 1)::timestamp AT TIME ZONE p.timezone AS day_end_utc,
               last_sync.synced_at                              AS last_sync_at
        FROM participant p
        -- One backward probe of device_sync's primary key per participant, not per day.
        CROSS JOIN LATERAL (
            SELECT max(ds.synced_at) AS synced_at FROM device_sync ds WHERE ds.participant_id = p.participant_id
        ) last_sync
        CROSS JOIN LATERAL generate_series(
            greatest(p.enrolled_on, first_date)::timestamp,
            least((now() AT TIME ZONE p.timezone)::date - 1, last_date)::timestamp, INTERVAL '1 day') AS d
    )
    SELECT d.participant_id,
           d.local_date,
           d.timezone,
           d.day_end_utc,
           COALESCE(a.wear_minutes, hr.worn_minutes, 0)                       AS wear_minutes,
           COALESCE(a.valid_day, COALESCE(hr.worn_minutes, 0) >= 600)         AS valid_day,
           a.participant_id IS NOT NULL                                       AS adherence_computed,
           s.first_sync_after_day_end,
           d.last_sync_at,
           d.last_sync_at IS NOT NULL                                         AS sync_data_available,
           -- A sync after the day ended exists when the last one is after it: the day's status needs no probe of
           -- its own, so a query that does not select first_sync_after_day_end (the cohort's) makes none.
           CASE
               WHEN COALESCE(a.valid_day, COALESCE(hr.worn_minutes, 0) >= 600) THEN 'ok'
               WHEN d.last_sync_at >= d.day_end_utc THEN 'not_wearing'
               ELSE 'not_syncing'
           END                                                                AS status
    FROM days d
    LEFT JOIN daily_adherence a ON a.participant_id = d.participant_id AND a.local_date = d.local_date
                                   AND a.local_date BETWEEN first_date AND last_date  -- not a hash of every day
    LEFT JOIN LATERAL (
        -- Only for days daily_adherence has not computed: worn minute = at least one sample.
        SELECT count(DISTINCT date_trunc('minute', h.ts))::integer AS worn_minutes
        FROM heart_rate h
        WHERE a.participant_id IS NULL
          AND h.participant_id = d.participant_id AND h.ts >= d.day_start_utc AND h.ts < d.day_end_utc
          -- The same bounds as constants (local days lie within UTC +-14 h; immutable expressions) when first_date
          -- and last_date are: the heart_rate chunks or partitions outside them are pruned when planning, not probed
          -- for each day.
          AND h.ts >= ((first_date - 1)::timestamp AT TIME ZONE 'UTC')
          AND h.ts < ((last_date + 2)::timestamp AT TIME ZONE 'UTC')
    ) hr ON TRUE
    LEFT JOIN LATERAL (
        -- An index probe on device_sync's primary key (participant_id, synced_at, ...), not a scan of every sync
        -- of the participant for each day: with a year of daily syncs that scan made the cohort overview take ~0.6 s.
        SELECT (SELECT min(ds.synced_at) FROM device_sync ds
                WHERE ds.participant_id = d.participant_id AND ds.synced_at >= d.day_end_utc)
                   AS first_sync_after_day_end
    ) s ON TRUE
$$;

CREATE OR REPLACE VIEW participant_day_status AS
SELECT * FROM participant_day_status_between('-infinity', 'infinity');

COMMENT ON VIEW participant_day_status IS 'ok / not_wearing / not_syncing per participant local day (device_sync + heart rate)';
