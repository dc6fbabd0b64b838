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
                            CHECK (consent_state IN ('active', 'reconsent_needed')),
    consent_reason          text,                   -- why re-consent is needed (e.g. invalid_grant: revoked)
    consent_changed_at      timestamptz NOT NULL DEFAULT now(),
    token_version           integer     NOT NULL DEFAULT 1,  -- bumped on every saved refresh
    updated_at              timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE google_health_account IS 'Encrypted Google Health API OAuth tokens and consent state per participant';

-- What the dashboard and the coordinator alerts may see: the consent state, never a token.
CREATE OR REPLACE VIEW participant_consent AS
SELECT participant_id, consent_state, consent_reason, consent_changed_at
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
