-- One request's token of a shared Google Health request budget (fitbit_assets/google_health/client.py
-- ProjectBudget): refill for the time since the last take (up to the capacity), take one, return what is left
-- (negative: the taker waits the debt off). The row lock serialises concurrent runs.
INSERT INTO google_health_request_budget (name, tokens, refilled_at)
VALUES (%(name)s, %(capacity)s - 1, clock_timestamp())
ON CONFLICT (name) DO UPDATE
SET tokens = LEAST(%(capacity)s, google_health_request_budget.tokens
                   + EXTRACT(EPOCH FROM clock_timestamp() - google_health_request_budget.refilled_at)::float8
                   * %(per_second)s) - 1,
    refilled_at = clock_timestamp()
RETURNING tokens
