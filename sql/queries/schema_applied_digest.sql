-- The digest of the schema last applied for a backend (no row: never, or before schema_applied existed).
SELECT digest FROM schema_applied WHERE backend = %(backend)s
