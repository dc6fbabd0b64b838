-- What the cached year of query data was generated from (compared with the run's signature before reuse).
CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)
