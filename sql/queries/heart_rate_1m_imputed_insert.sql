INSERT INTO heart_rate_1m_imputed (participant_id, bucket, mean_bpm, imputed) VALUES %s
