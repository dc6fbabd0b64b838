SELECT value FROM bench_meta WHERE key = 'year' AND to_regclass('bench_meta') IS NOT NULL
