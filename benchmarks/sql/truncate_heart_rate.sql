TRUNCATE heart_rate, participant
