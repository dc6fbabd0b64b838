-- The digest of the schema files last applied, per backend. A process whose code finds its own digest here skips the
-- DDL: a re-apply's CREATE OR REPLACE of views and functions takes exclusive locks, and one taken while another
-- run read the same view deadlocked with it.
CREATE TABLE IF NOT EXISTS schema_applied (
    backend    text PRIMARY KEY,
    digest     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
