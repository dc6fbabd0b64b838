-- The lower bound's target: the heart_rate columns with nothing that costs on write (no WAL, no index, no check).
CREATE UNLOGGED TABLE bench_unlogged (participant_id text, ts timestamptz, bpm smallint)
