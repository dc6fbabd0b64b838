-- The HTTP API's role (fitbit_assets.serving.api): SELECT on the pipeline's tables. 110_api_access.sql makes it a
-- LOGIN role (the API logs in as it, never as the owner: no SET ROLE to undo), takes back what the API must not read
-- and grants it the sessions, the audit append and the contact lookup. On a server with passwords give it one
-- (ALTER ROLE fitbit_api_reader PASSWORD '...') and point FITBIT_API_DSN at it.
-- Roles are cluster-wide; grants are per database, so this file is re-applied to each database idempotently.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fitbit_api_reader') THEN
        BEGIN
            CREATE ROLE fitbit_api_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created concurrently by another database's schema apply
        END;
    END IF;
    -- The schema owner must be able to SET ROLE to it (superusers always can).
    IF NOT pg_has_role(current_user, 'fitbit_api_reader', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT fitbit_api_reader TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot grant fitbit_api_reader to %: the API must log in as a reader role itself', current_user;
        END;
    END IF;
    -- Only when it cannot connect yet (PUBLIC has CONNECT by default): re-granting rewrote the pg_database row on
    -- every apply, and on the TimescaleDB test server that update failed at times with "tuple concurrently deleted".
    IF NOT has_database_privilege('fitbit_api_reader', current_database(), 'CONNECT') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO fitbit_api_reader', current_database());
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO fitbit_api_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO fitbit_api_reader;
-- Tables, views and continuous aggregates the schema owner creates later (files numbered after this one,
-- heart_rate's monthly partitions created by loads).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO fitbit_api_reader;
