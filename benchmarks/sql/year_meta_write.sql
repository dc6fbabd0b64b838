INSERT INTO bench_meta VALUES ('year', %(signature)s) ON CONFLICT (key) DO UPDATE SET value = excluded.value
