-- Who may use the HTTP API, what they read, and how participants are contacted (docs/api.md).
-- The API logs in as fitbit_api_reader (099): LOGIN, never a superuser, no SET ROLE. Users, tokens and the audit
-- trail are managed by the schema owner (CLI `fitbit-assets users` / `audit`); the API only reads users, keeps
-- sessions, appends audit rows through audit_append() and reads contact addresses through a function.
ALTER ROLE fitbit_api_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;

-- The participant's study site (roster column `site`): coordinators see the participants of their sites only.
ALTER TABLE participant ADD COLUMN IF NOT EXISTS site text;

CREATE TABLE IF NOT EXISTS api_user (
    user_name     text PRIMARY KEY CHECK (user_name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    role          text NOT NULL CHECK (role IN ('coordinator', 'data_engineer', 'admin')),
    sites         text[] NOT NULL DEFAULT '{}',
    password_hash text,                         -- argon2id (argon2-cffi); NULL: API tokens only
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz                   -- revoked users keep their row: the audit trail names them
);

-- Per-user API tokens for scripts: random 256-bit secrets, stored as SHA-256 (a high-entropy secret needs no slow
-- hash; a slow one would cost every request).
CREATE TABLE IF NOT EXISTS api_token (
    token_hash  text PRIMARY KEY,
    user_name   text NOT NULL REFERENCES api_user,
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Dashboard sessions: the HttpOnly cookie holds a random secret, the table its SHA-256.
CREATE TABLE IF NOT EXISTS api_session (
    session_hash text PRIMARY KEY,
    csrf_token   text NOT NULL,              -- sent back in X-CSRF-Token on every unsafe request
    user_name    text NOT NULL REFERENCES api_user,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- The audit trail: append-only (the API may only call audit_append), each row chained to the one before it by
-- hash = sha256(previous hash | row) at a gap-free seq; `fitbit-assets audit verify` recomputes the chain.
-- A row is inserted unchained (seq NULL) and chained by whichever append gets the chain lock next, or by verify and
-- export: appends never queue behind one another's commit (a lock held across every commit capped the API at one
-- request per commit, ~25 requests/s on the loaded test machine).
CREATE TABLE IF NOT EXISTS audit_log (
    id           bigserial PRIMARY KEY,
    seq          bigint UNIQUE,       -- position in the chain; NULL until chained
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,       -- read | contact | sign_in | sign_in_failed | sign_out | user_add | ...
    endpoint     text NOT NULL,
    participants text[] NOT NULL,
    time_range   text NOT NULL,
    detail       jsonb NOT NULL,
    prev_hash    text,
    hash         text
);
CREATE INDEX IF NOT EXISTS audit_log_unchained ON audit_log (id) WHERE seq IS NULL;

CREATE OR REPLACE FUNCTION audit_row_hash(
    prev_hash text, seq bigint, at timestamptz, actor text, action text, endpoint text, participants text[],
    time_range text, detail jsonb
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(E'\x1f', prev_hash, seq::text,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), actor, action, endpoint, participants::text,
        time_range, detail::text), 'UTF8')), 'hex')
$$;

-- Chain the unchained rows in insertion order. wait = false: only if no other transaction is chaining right now.
CREATE OR REPLACE FUNCTION audit_chain(wait boolean) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    last_hash text;
    next_hash text;
    pending record;
    chained integer := 0;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(7303002);
    ELSIF NOT pg_try_advisory_xact_lock(7303002) THEN
        RETURN 0;
    END IF;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    last_seq := COALESCE(last_seq, 0);
    last_hash := COALESCE(last_hash, '');
    FOR pending IN SELECT * FROM audit_log WHERE seq IS NULL ORDER BY id FOR UPDATE LOOP
        last_seq := last_seq + 1;
        next_hash := audit_row_hash(last_hash, last_seq, pending.at, pending.actor, pending.action, pending.endpoint,
                                    pending.participants, pending.time_range, pending.detail);
        UPDATE audit_log SET seq = last_seq, prev_hash = last_hash, hash = next_hash WHERE id = pending.id;
        last_hash := next_hash;
        chained := chained + 1;
    END LOOP;
    RETURN chained;
END
$$;

CREATE OR REPLACE FUNCTION audit_append(
    p_actor text, p_action text, p_endpoint text, p_participants text[], p_time_range text, p_detail jsonb
) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    row_id bigint;
BEGIN
    INSERT INTO audit_log (at, actor, action, endpoint, participants, time_range, detail)
    VALUES (clock_timestamp(), p_actor, p_action, p_endpoint, p_participants, p_time_range, p_detail)
    RETURNING id INTO row_id;
    PERFORM audit_chain(false);
    RETURN row_id;
END
$$;

-- Participants' contact details, Fernet-encrypted with FITBIT_TOKEN_ENCRYPTION_KEY like the Google Health tokens;
-- the API role cannot select them: contact_address() gives the ciphertext of one participant at a time.
CREATE TABLE IF NOT EXISTS participant_contact (
    participant_id text PRIMARY KEY,
    email_enc      bytea,
    email_hint     text NOT NULL DEFAULT '',   -- e.g. j***@example.org, what the dashboard shows
    do_not_contact boolean NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION contact_address(p_participant_id text)
RETURNS TABLE (email_enc bytea, email_hint text, do_not_contact boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT email_enc, email_hint, do_not_contact FROM participant_contact WHERE participant_id = p_participant_id
$$;

-- Contacts sent to participants: at most one a day unless overridden (the API checks before sending).
CREATE TABLE IF NOT EXISTS contact_sent (
    participant_id text NOT NULL,
    sent_at        timestamptz NOT NULL DEFAULT now(),
    template       text NOT NULL,
    user_name      text NOT NULL,
    overridden     boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS contact_sent_recent ON contact_sent (participant_id, sent_at DESC);

-- 099 granted SELECT on every table (and by default on later ones): take back what the API must not read.
REVOKE ALL ON audit_log, participant_contact, alert_sent, heart_rate_lineage FROM fitbit_api_reader;
REVOKE ALL ON api_user, api_token, api_session, contact_sent FROM fitbit_api_reader;
GRANT SELECT ON api_user, api_token TO fitbit_api_reader;
GRANT SELECT, INSERT, DELETE ON api_session TO fitbit_api_reader;
GRANT SELECT, INSERT ON contact_sent TO fitbit_api_reader;
REVOKE ALL ON FUNCTION audit_append(text, text, text, text[], text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION contact_address(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text, text, text, text[], text, jsonb) TO fitbit_api_reader;
GRANT EXECUTE ON FUNCTION contact_address(text) TO fitbit_api_reader;
