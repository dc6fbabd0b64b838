-- Participants as the warehouse knows them (upserted from the roster by the load). Local-day queries
-- (daily summaries, adherence) need each participant's timezone. heart_rate has no foreign key to this
-- table on purpose: a per-row FK lookup would slow COPY for no gain, since loads upsert the participant first.
CREATE TABLE IF NOT EXISTS participant (
    participant_id text PRIMARY KEY CHECK (participant_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    timezone       text NOT NULL,
    enrolled_on    date NOT NULL,
    source         text NOT NULL CHECK (source IN ('synthetic', 'landing', 'google_health')),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
