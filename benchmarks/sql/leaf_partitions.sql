SELECT count(*) FROM pg_partition_tree(%(rel)s) WHERE isleaf
