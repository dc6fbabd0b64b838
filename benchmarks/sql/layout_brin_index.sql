CREATE INDEX heart_rate_ts_brin ON heart_rate USING brin (ts)
