-- The metric families (docs/metrics.md), one table each, loaded per participant-day by the Dagster assets <family>_rows
-- (the dataset factory, fitbit_assets/defs/datasets/) with an atomic DELETE (participant_id, local_date) + COPY. local_date is the
-- participant's local calendar day the file belongs to (for SpO2, HRV and breathing rate: the wake-up date of
-- the main sleep). Intraday tables become hypertables on TimescaleDB (sql/timescaledb/020_metrics.sql).

CREATE TABLE IF NOT EXISTS heart_rate_daily_summary (
    participant_id        text     NOT NULL,
    local_date            date     NOT NULL,
    resting_heart_rate    smallint CHECK (resting_heart_rate BETWEEN 25 AND 250),  -- NULL: no resting HR that day
    out_of_range_minutes  smallint NOT NULL CHECK (out_of_range_minutes BETWEEN 0 AND 1500),
    out_of_range_min_bpm  smallint NOT NULL,
    out_of_range_max_bpm  smallint NOT NULL,
    out_of_range_calories real     NOT NULL CHECK (out_of_range_calories >= 0),
    fat_burn_minutes      smallint NOT NULL CHECK (fat_burn_minutes BETWEEN 0 AND 1500),
    fat_burn_min_bpm      smallint NOT NULL,
    fat_burn_max_bpm      smallint NOT NULL,
    fat_burn_calories     real     NOT NULL CHECK (fat_burn_calories >= 0),
    cardio_minutes        smallint NOT NULL CHECK (cardio_minutes BETWEEN 0 AND 1500),
    cardio_min_bpm        smallint NOT NULL,
    cardio_max_bpm        smallint NOT NULL,
    cardio_calories       real     NOT NULL CHECK (cardio_calories >= 0),
    peak_minutes          smallint NOT NULL CHECK (peak_minutes BETWEEN 0 AND 1500),
    peak_min_bpm          smallint NOT NULL,
    peak_max_bpm          smallint NOT NULL,
    peak_calories         real     NOT NULL CHECK (peak_calories >= 0),
    PRIMARY KEY (participant_id, local_date)
);
COMMENT ON TABLE heart_rate_daily_summary IS 'Fitbit heart-rate daily summary: resting HR (bpm) and the four zones (minutes, bpm bounds, kcal)';

CREATE TABLE IF NOT EXISTS spo2 (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,
    local_date     date        NOT NULL,  -- wake-up date of the main sleep
    spo2           real        NOT NULL CHECK (spo2 BETWEEN 50 AND 100),  -- percent, 5-minute moving average
    PRIMARY KEY (participant_id, ts)
);
CREATE INDEX IF NOT EXISTS spo2_participant_local_date ON spo2 (participant_id, local_date);
COMMENT ON TABLE spo2 IS 'Fitbit SpO2 (%), 5-minute values during the main sleep, attached to the wake-up date';

CREATE TABLE IF NOT EXISTS hrv (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,  -- start of the 5-minute window
    local_date     date        NOT NULL,  -- wake-up date of the main sleep
    rmssd          real        NOT NULL CHECK (rmssd > 0),                  -- ms
    coverage       real        NOT NULL CHECK (coverage BETWEEN 0 AND 1),  -- fraction of valid inter-beat intervals
    hf             real        NOT NULL CHECK (hf >= 0),                    -- ms^2, 0.15-0.4 Hz
    lf             real        NOT NULL CHECK (lf >= 0),                    -- ms^2, 0.04-0.15 Hz
    PRIMARY KEY (participant_id, ts)
);
CREATE INDEX IF NOT EXISTS hrv_participant_local_date ON hrv (participant_id, local_date);
COMMENT ON TABLE hrv IS 'Fitbit heart-rate variability, 5-minute windows of the main sleep, attached to the wake-up date';

-- Daily RMSSD: Fitbit's dailyRmssd is computed over the main sleep, i.e. over these windows.
CREATE OR REPLACE VIEW hrv_daily AS
SELECT participant_id, local_date, avg(rmssd)::real AS daily_rmssd, avg(coverage)::real AS mean_coverage,
       count(*) AS windows
FROM hrv
GROUP BY participant_id, local_date;

CREATE TABLE IF NOT EXISTS breathing_rate_daily (
    participant_id             text NOT NULL,
    local_date                 date NOT NULL,  -- wake-up date of the main sleep
    full_sleep_breathing_rate  real CHECK (full_sleep_breathing_rate > 0),   -- breaths/min; NULL = no value
    deep_sleep_breathing_rate  real CHECK (deep_sleep_breathing_rate > 0),
    light_sleep_breathing_rate real CHECK (light_sleep_breathing_rate > 0),
    rem_sleep_breathing_rate   real CHECK (rem_sleep_breathing_rate > 0),
    PRIMARY KEY (participant_id, local_date)
);
COMMENT ON TABLE breathing_rate_daily IS 'Fitbit breathing rate per sleep stage (breaths/min); the API''s non-positive values are NULL';

CREATE TABLE IF NOT EXISTS active_zone_minutes (
    participant_id      text        NOT NULL,
    ts                  timestamptz NOT NULL,  -- the minute
    local_date          date        NOT NULL,
    fat_burn            smallint    NOT NULL CHECK (fat_burn IN (0, 1)),
    cardio              smallint    NOT NULL CHECK (cardio IN (0, 2)),
    peak                smallint    NOT NULL CHECK (peak IN (0, 2)),
    active_zone_minutes smallint    NOT NULL CHECK (active_zone_minutes = fat_burn + cardio + peak),
    PRIMARY KEY (participant_id, ts)
);
CREATE INDEX IF NOT EXISTS active_zone_minutes_participant_local_date ON active_zone_minutes (participant_id, local_date);
COMMENT ON TABLE active_zone_minutes IS 'Fitbit Active Zone Minutes per minute: fat burn counts 1, cardio and peak count 2';

CREATE OR REPLACE VIEW active_zone_minutes_daily AS
SELECT participant_id, local_date, sum(active_zone_minutes) AS active_zone_minutes,
       sum(fat_burn) AS fat_burn, sum(cardio) AS cardio, sum(peak) AS peak
FROM active_zone_minutes
GROUP BY participant_id, local_date;

CREATE TABLE IF NOT EXISTS activity_daily_summary (
    participant_id         text     NOT NULL,
    local_date             date     NOT NULL,
    steps                  integer  NOT NULL CHECK (steps >= 0),
    distance_km            real     NOT NULL CHECK (distance_km >= 0),
    calories_out           integer  NOT NULL CHECK (calories_out >= 0),
    activity_calories      integer  NOT NULL CHECK (activity_calories >= 0),
    calories_bmr           integer  NOT NULL CHECK (calories_bmr >= 0),
    sedentary_minutes      smallint NOT NULL CHECK (sedentary_minutes BETWEEN 0 AND 1500),
    lightly_active_minutes smallint NOT NULL CHECK (lightly_active_minutes BETWEEN 0 AND 1500),
    fairly_active_minutes  smallint NOT NULL CHECK (fairly_active_minutes BETWEEN 0 AND 1500),
    very_active_minutes    smallint NOT NULL CHECK (very_active_minutes BETWEEN 0 AND 1500),
    PRIMARY KEY (participant_id, local_date)
);
COMMENT ON TABLE activity_daily_summary IS 'Fitbit daily activity summary. sedentary_minutes counts non-wear time: never use it for wear time';

-- Sleep (one sleep-log document per participant and dateOfSleep, the date the sleep ends on): nightly totals, and
-- the state of every minute of the logs' levels. A night without sleep has a sleep_daily row of zeros; a night known
-- only from daily totals (Fitabase sleepDay) has no sleep_minutes rows.
CREATE TABLE IF NOT EXISTS sleep_daily (
    participant_id      text        NOT NULL,
    local_date          date        NOT NULL,  -- dateOfSleep
    minutes_asleep      smallint    NOT NULL CHECK (minutes_asleep BETWEEN 0 AND 1440),  -- nightly sleep minutes
    time_in_bed         smallint    NOT NULL CHECK (time_in_bed BETWEEN 0 AND 1440),
    sleep_records       smallint    NOT NULL CHECK (sleep_records >= 0),
    minutes_awake       smallint    CHECK (minutes_awake BETWEEN 0 AND 1440),  -- NULL: totals without sleep logs
    main_sleep_start    timestamptz,                                            -- NULL: no main sleep
    main_sleep_end      timestamptz CHECK (main_sleep_end > main_sleep_start),
    main_minutes_asleep smallint    CHECK (main_minutes_asleep BETWEEN 0 AND 1440),
    main_efficiency     smallint    CHECK (main_efficiency BETWEEN 0 AND 100),
    CHECK (minutes_asleep <= time_in_bed),
    PRIMARY KEY (participant_id, local_date)
);
COMMENT ON TABLE sleep_daily IS 'Fitbit sleep per night (dateOfSleep): summary totals over the sleep logs and the main sleep';

CREATE TABLE IF NOT EXISTS sleep_minutes (
    participant_id text        NOT NULL,
    ts             timestamptz NOT NULL,  -- the minute
    local_date     date        NOT NULL,  -- dateOfSleep of its sleep log
    log_id         bigint      NOT NULL,
    level          text        NOT NULL CHECK (level IN ('asleep', 'restless', 'awake', 'wake', 'light', 'deep', 'rem')),
    PRIMARY KEY (participant_id, ts)
);
CREATE INDEX IF NOT EXISTS sleep_minutes_participant_local_date ON sleep_minutes (participant_id, local_date);
COMMENT ON TABLE sleep_minutes IS 'Fitbit sleep state per minute: classic logs asleep/restless/awake (Fitabase minuteSleep 1/2/3), stages logs wake/light/deep/rem';
