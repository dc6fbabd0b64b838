-- Cohort overview: per participant the end of its last 1-minute bucket of heart rate (one index probe each),
-- its last device sync, the trailing 7-day adherence rollup (view participant_adherence), and for google_health
-- participants the API consent state (view participant_consent: re-consent needed); the site says who sees it.
SELECT p.participant_id, p.timezone, p.enrolled_on, p.source, p.site,
       last_minute.bucket + INTERVAL '1 minute' AS last_data,
       last_sync.synced_at AS last_sync,
       a.trailing_7d_adherence_pct, a.valid_days_7d, a.days_7d, a.consecutive_invalid_days,
       a.last_local_date, a.last_valid_date,
       c.consent_state, c.consent_reason, c.consent_changed_at
FROM participant p
LEFT JOIN LATERAL (
    SELECT bucket FROM heart_rate_1m h WHERE h.participant_id = p.participant_id ORDER BY bucket DESC LIMIT 1
) last_minute ON true
LEFT JOIN LATERAL (
    SELECT synced_at FROM device_sync s WHERE s.participant_id = p.participant_id ORDER BY synced_at DESC LIMIT 1
) last_sync ON true
LEFT JOIN participant_adherence a ON a.participant_id = p.participant_id
LEFT JOIN participant_consent c ON c.participant_id = p.participant_id
ORDER BY p.participant_id
