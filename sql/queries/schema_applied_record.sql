-- Record the digest of the schema files just applied, in the apply's transaction.
INSERT INTO schema_applied (backend, digest) VALUES (%(backend)s, %(digest)s)
ON CONFLICT (backend) DO UPDATE SET digest = EXCLUDED.digest, applied_at = now()
