-- +goose Up
-- provider_pauses is how every packshot instance learns that an AI provider asked to be left
-- alone: after a 429 (until its retry time) or after repeated 5xx/timeouts (a circuit
-- breaker with exponential backoff). Until paused_until, instances answer their jobs with a
-- rate-limited error without calling the provider, so the jobs snooze instead of hammering
-- it. A pause only ever extends (see ProviderPauseExtend). Rows are tiny and few (one per
-- provider) and are never deleted by packshot; an operator may delete one to lift a pause.
CREATE TABLE provider_pauses (
    provider     text PRIMARY KEY CHECK (provider <> ''),
    paused_until timestamptz NOT NULL,
    reason       text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE provider_pauses;
