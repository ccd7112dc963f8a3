-- +goose Up
-- ai_spend_days is what the AI services charged, per user and UTC day: every provider
-- cost packshot records (a generated image's cost_usd, a remove.bg cut-out) is added to
-- its user's row of the day in the transaction that records it. The spend limits read it
-- (PACKSHOT_AI_DAILY_BUDGET_USD per user, PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD for the
-- whole service): a request that would start paid work is admitted when
--     spent today + (unfinished AI jobs, this one included) × estimate ≤ budget,
-- so a job's cost counts as an estimate while it is pending or running and as what the
-- provider actually charged once recorded. Nothing has to be settled: a finished job
-- leaves the in-flight count and its real cost is already here. The check and the
-- enqueue share one transaction, serialised per user (and for the global ceiling,
-- service-wide) by an advisory lock, so instances sharing the database cannot admit
-- more between them than the limits allow. Rows are tiny (one per user and day with
-- spend); packshot never deletes them, they are the operators' spend history.
CREATE TABLE ai_spend_days (
    user_id   text NOT NULL,
    day       date NOT NULL,
    spent_usd double precision NOT NULL DEFAULT 0 CHECK (spent_usd >= 0),
    PRIMARY KEY (user_id, day)
);

-- The global ceiling sums a day's rows.
CREATE INDEX ai_spend_days_day_idx ON ai_spend_days (day);

-- +goose Down
DROP TABLE ai_spend_days;
