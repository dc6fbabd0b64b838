-- A 403 PERMISSION_DENIED for some data types: added to the withheld ones (shown to the coordinator), the other
-- types keep being pulled. A new consent (`connect`) recomputes the list from the granted scopes.
UPDATE google_health_account
SET withheld_data_types = ARRAY(SELECT DISTINCT t FROM unnest(withheld_data_types || %(data_types)s::text[]) AS t
                                ORDER BY t),
    withheld_reason = %(reason)s, updated_at = now()
WHERE participant_id = %(participant_id)s
