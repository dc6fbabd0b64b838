COPY heart_rate (participant_id, ts, bpm, confidence) FROM STDIN
