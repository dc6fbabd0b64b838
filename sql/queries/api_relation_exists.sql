-- Whether an optional relation (e.g. the participant_day_status view) exists in the search path.
SELECT to_regclass(%(name)s) IS NOT NULL
