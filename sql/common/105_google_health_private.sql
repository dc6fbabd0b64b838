-- 099 grants the API reader every table; the token table is not for it (even encrypted): consent state only,
-- through the participant_consent view.
REVOKE ALL ON google_health_account FROM fitbit_api_reader;
