-- Daily wear-time adherence per participant and local calendar day, computed by the Dagster asset
-- daily_adherence from heart_rate_1m (definitions in docs/adherence.md). The thresholds used
-- are stored on every row so a changed study configuration never silently reinterprets old rows.
CREATE TABLE IF NOT EXISTS daily_adherence (
    participant_id          text             NOT NULL,
    local_date              date             NOT NULL,
    timezone                text             NOT NULL,
    day_minutes             integer          NOT NULL CHECK (day_minutes > 0),
    wear_minutes            integer          NOT NULL CHECK (wear_minutes >= 0),
    adherence_pct           double precision NOT NULL,
    longest_gap_minutes     integer          NOT NULL,
    gap_count               integer          NOT NULL,
    valid_day               boolean          NOT NULL,
    imputed_minutes         integer          NOT NULL,
    samples                 bigint           NOT NULL,
    worn_minute_min_samples integer          NOT NULL,
    valid_day_minutes       integer          NOT NULL,
    impute_max_gap_minutes  integer          NOT NULL,
    computed_at             timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, local_date)
);

COMMENT ON TABLE daily_adherence IS 'Wear-time adherence per participant local day (Dagster asset daily_adherence)';

-- The 1-minute series with short gaps filled by linear interpolation: observed minutes (imputed = false,
-- mean of the worn minute) and imputed minutes (imputed = true). Non-wear gaps longer than the limit and
-- gaps at the edges of the local day are absent. Replaced per participant-day with daily_adherence.
CREATE TABLE IF NOT EXISTS heart_rate_1m_imputed (
    participant_id text             NOT NULL,
    bucket         timestamptz      NOT NULL,
    mean_bpm       double precision NOT NULL,
    imputed        boolean          NOT NULL,
    PRIMARY KEY (participant_id, bucket)
);

-- Each participant's valid days, newest first: the latest one is an index probe (participant_adherence).
CREATE INDEX IF NOT EXISTS daily_adherence_valid_days ON daily_adherence (participant_id, local_date) WHERE valid_day;

-- Participant-level rollup over the 7 local days ending at the participant's latest computed day.
-- trailing_7d_adherence_pct: worn minutes / day minutes over the computed days of that window;
-- consecutive_invalid_days: invalid days in a row ending at last_local_date (days never computed count
-- as invalid once a later day exists). One row per participant with computed days. Every value is a few index
-- probes per participant (first, last and last valid day, the 7-day window), not an aggregate over every computed
-- day: at 100 participants x 1 year that aggregate was most of the cohort overview's time.
CREATE OR REPLACE VIEW participant_adherence AS
SELECT p.participant_id,
       round((100.0 * w.wear_minutes_7d / NULLIF(w.day_minutes_7d, 0))::numeric, 2)::double precision
           AS trailing_7d_adherence_pct,
       w.valid_days_7d,
       w.days_7d,
       (l.last_local_date - COALESCE(v.last_valid_date, f.first_local_date - 1))::integer AS consecutive_invalid_days,
       l.last_local_date,
       v.last_valid_date
FROM participant p
CROSS JOIN LATERAL (
    SELECT max(d.local_date) AS last_local_date FROM daily_adherence d WHERE d.participant_id = p.participant_id
) l
CROSS JOIN LATERAL (
    SELECT min(d.local_date) AS first_local_date FROM daily_adherence d WHERE d.participant_id = p.participant_id
) f
CROSS JOIN LATERAL (
    SELECT max(d.local_date) AS last_valid_date FROM daily_adherence d
    WHERE d.participant_id = p.participant_id AND d.valid_day
) v
CROSS JOIN LATERAL (
    SELECT sum(d.wear_minutes) AS wear_minutes_7d, sum(d.day_minutes) AS day_minutes_7d,
           count(*) FILTER (WHERE d.valid_day) AS valid_days_7d, count(*) AS days_7d
    FROM daily_adherence d
    WHERE d.participant_id = p.participant_id AND d.local_date > l.last_local_date - 7
) w
WHERE l.last_local_date IS NOT NULL;

-- De-duplication state of coordinator alerts: one row per participant, local day and kind of alert that
-- was delivered. The alert sensor never sends a key that is already here, so re-runs stay quiet.
CREATE TABLE IF NOT EXISTS alert_sent (
    participant_id text        NOT NULL,
    local_date     date        NOT NULL,
    kind           text        NOT NULL,
    channels       text        NOT NULL,
    subject        text        NOT NULL,
    sent_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, local_date, kind)
);
