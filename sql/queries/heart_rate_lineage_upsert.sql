INSERT INTO heart_rate_lineage (participant_id, local_date, source_format, source_files, rows, ingested_at)
VALUES (%(participant_id)s, %(local_date)s, %(source_format)s, %(source_files)s, %(rows)s, now())
ON CONFLICT (participant_id, local_date) DO UPDATE
SET source_format = EXCLUDED.source_format, source_files = EXCLUDED.source_files, rows = EXCLUDED.rows,
    ingested_at = EXCLUDED.ingested_at
