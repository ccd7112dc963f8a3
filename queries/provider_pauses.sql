-- ProviderPauseGet returns a provider's pause; no row means it was never paused. The row
-- may lie in the past: the caller compares paused_until with its own clock.
-- name: ProviderPauseGet :one
SELECT * FROM provider_pauses WHERE provider = @provider;

-- ProviderPauseExtend pauses a provider until paused_until, or later if it already is: a
-- pause only ever extends, so two instances recording different retry times keep the later
-- one, and reason stays the one that set the pause in force.
-- name: ProviderPauseExtend :one
INSERT INTO provider_pauses (provider, paused_until, reason, updated_at)
VALUES (@provider, @paused_until, @reason, now())
ON CONFLICT (provider) DO UPDATE
SET paused_until = GREATEST(provider_pauses.paused_until, EXCLUDED.paused_until),
    reason = CASE WHEN EXCLUDED.paused_until > provider_pauses.paused_until
                  THEN EXCLUDED.reason ELSE provider_pauses.reason END,
    updated_at = now()
RETURNING *;
