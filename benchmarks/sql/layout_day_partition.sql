-- One UTC day of the day layout; {partition} is the quoted partition name.
CREATE TABLE IF NOT EXISTS {partition} PARTITION OF heart_rate FOR VALUES FROM (%(start)s) TO (%(end)s)
