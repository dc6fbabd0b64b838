-- Google Health API accounts of source=google_health participants (fitbit_assets/google_health/tokens.py).
-- Tokens are Fernet ciphertexts (key: FITBIT_TOKEN_ENCRYPTION_KEY, never stored here); the API reader role may
-- read the consent view below but not this table (revoked in 105_google_health_private.sql, after 099's grants).
-- Warehouses created before the connector: let participant.source take the new roster source.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_constraint WHERE conname = 'participant_source_check'
               AND pg_get_constraintdef(oid) NOT LIKE '%google_health%') THEN
        ALTER TABLE participant DROP CONSTRAINT participant_source_check;
        ALTER TABLE participant ADD CONSTRAINT participant_source_check
            CHECK (source IN ('synthetic', 'landing', 'google_health'));
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS google_health_account (
    participant_id          text        PRIMARY KEY,
    refresh_token_enc       bytea,                  -- NULL once consent is gone
    access_token_enc        bytea,
    access_token_expires_at timestamptz,
    scopes                  text[]      NOT NULL,   -- as granted at consent
    consent_state           text        NOT NULL DEFAULT 'active'
                            CHECK (consent_state IN ('active', 'reconsent_needed', 'account_not_linked',
                                                     'legacy_account')),
    consent_reason          text,                   -- why no data comes, with the action to take
    consent_changed_at      timestamptz NOT NULL DEFAULT now(),
    token_version           integer     NOT NULL DEFAULT 1,  -- bumped on every saved refresh
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Warehouses created before: the account states of the documented error reasons, the Google Health identity, and
-- the data types whose scope the participant withheld.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_constraint WHERE conname = 'google_health_account_consent_state_check'
               AND pg_get_constraintdef(oid) NOT LIKE '%legacy_account%') THEN
        ALTER TABLE google_health_account DROP CONSTRAINT google_health_account_consent_state_check;
        ALTER TABLE google_health_account ADD CONSTRAINT google_health_account_consent_state_check
            CHECK (consent_state IN ('active', 'reconsent_needed', 'account_not_linked', 'legacy_account'));
    END IF;
END
$$;
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS health_user_id text;   -- users.getIdentity at consent
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS legacy_user_id text;   -- the Fitbit Web API user id
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS withheld_data_types text[] NOT NULL DEFAULT '{}';
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS withheld_reason text;
CREATE UNIQUE INDEX IF NOT EXISTS google_health_account_health_user ON google_health_account (health_user_id);
-- The participant's push subscription (projects.subscribers.subscriptions, MANUAL policy) as last reconciled with
-- Google: its name and data types (fitbit_assets/google_health/subscriptions.py).
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS subscription_name text;
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS subscribed_data_types text[] NOT NULL DEFAULT '{}';
ALTER TABLE google_health_account ADD COLUMN IF NOT EXISTS subscription_synced_at timestamptz;

COMMENT ON TABLE google_health_account IS 'Encrypted Google Health API OAuth tokens and consent state per participant';

-- What the dashboard and the coordinator alerts may see: the consent state, never a token.
CREATE OR REPLACE VIEW participant_consent AS
SELECT participant_id, consent_state, consent_reason, consent_changed_at, withheld_data_types, withheld_reason
FROM google_health_account;

-- On-wrist minutes per participant local day from the Google Health API (steps data points exist only while the
-- device is on the wrist, true zeros included): a second wear-time source next to heart rate's worn minutes.
-- Replaced by every pull of the day (google_health_pull).
CREATE TABLE IF NOT EXISTS google_health_wear_daily (
    participant_id    text        NOT NULL,
    local_date        date        NOT NULL,
    on_wrist_minutes  integer     NOT NULL CHECK (on_wrist_minutes BETWEEN 0 AND 1500),
    true_zero_minutes integer     NOT NULL CHECK (true_zero_minutes BETWEEN 0 AND on_wrist_minutes),
    pulled_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, local_date)
);

COMMENT ON TABLE google_health_wear_daily IS 'Google Health on-wrist minutes per participant local day (steps presence)';

-- Token buckets of the Google Health request budgets shared by every run and process (project-wide quota).
CREATE TABLE IF NOT EXISTS google_health_request_budget (
    name        text             PRIMARY KEY,
    tokens      double precision NOT NULL,
    refilled_at timestamptz      NOT NULL
);

-- The device's own sync state from users.pairedDevices, one row per participant device and pull (newest wins).
CREATE TABLE IF NOT EXISTS device_status (
    participant_id text        NOT NULL,
    device_id      text        NOT NULL,
    device_version text        NOT NULL,
    last_sync_at   timestamptz,
    battery_level  integer     CHECK (battery_level BETWEEN 0 AND 100),
    battery_status text,
    observed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (participant_id, device_id, observed_at)
);

COMMENT ON TABLE device_status IS 'Google Health paired-device last sync and battery per participant (users.pairedDevices)';

-- Google Health push notifications accepted by the webhook receiver (fitbit_assets/serving/api/
-- google_health_webhook.py): one row per participant, data type and affected interval; the
-- google_health_notification_sensor turns pending rows into pipeline runs and marks them processed.
CREATE TABLE IF NOT EXISTS google_health_notification (
    notification_id bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id  text        NOT NULL,
    data_type       text        NOT NULL,
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL CHECK (interval_end >= interval_start),
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed       boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS google_health_notification_pending ON google_health_notification (notification_id)
    WHERE NOT processed;

COMMENT ON TABLE google_health_notification IS 'Accepted Google Health webhook notifications, pending until a run is requested';
