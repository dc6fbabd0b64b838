-- Bytes on disk of the project's heart-rate rollups together.
SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest(%(tables)s::text[]) AS t
