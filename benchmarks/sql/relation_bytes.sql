-- (heap bytes, total bytes incl. indexes and TOAST) of a relation, summed over its leaf partitions when it is
-- partitioned.
SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint, coalesce(sum(pg_total_relation_size(relid)), 0)::bigint
FROM (SELECT relid FROM pg_partition_tree(%(rel)s) WHERE isleaf
      UNION ALL SELECT %(rel)s::regclass WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(%(rel)s))) AS t
