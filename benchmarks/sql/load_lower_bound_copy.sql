COPY bench_unlogged (participant_id, ts, bpm) FROM STDIN (FORMAT csv)
