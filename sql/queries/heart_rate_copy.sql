COPY heart_rate (participant_id, ts, bpm) FROM STDIN
