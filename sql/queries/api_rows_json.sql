-- The rows of a named query (placed below, with its ORDER BY) as one JSON array built by the server, for an API
-- response that passes it through. A sorted subquery feeding json_agg keeps its order when the outer query neither
-- joins nor groups, as here; text, not json, so the driver does not parse it back.
SELECT coalesce(json_agg(r), '[]')::text FROM (
{query}
) r
