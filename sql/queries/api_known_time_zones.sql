-- The time zone names the server knows (read once per API process: the catalog reads the zone files).
SELECT name FROM pg_timezone_names
