-- What each stage last did per participant-day, by input fingerprint (raw bytes + rules version, see
-- study_files.input_fingerprint). The daily tick re-covers trailing days for late syncs; a stage skips a day whose
-- input it already processed. Written after the day's own transaction committed: a crash in between only makes
-- the next run redo that day (loads are idempotent replaces), never skip one that was not done.
CREATE TABLE IF NOT EXISTS day_loads (
    stage             text        NOT NULL,  -- heart_rate_rows, <family>_rows, heart_rate_aggregates, daily_adherence, ...
    participant_id    text        NOT NULL,
    local_date        date        NOT NULL,
    input_fingerprint text        NOT NULL,
    rows              integer,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stage, participant_id, local_date)
);

COMMENT ON TABLE day_loads IS 'Input fingerprint each pipeline stage last processed per participant local day';
