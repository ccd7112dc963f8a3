-- AISpendAdd adds what a provider charged to the user's spend of the current UTC day.
-- name: AISpendAdd :exec
INSERT INTO ai_spend_days (user_id, day, spent_usd)
VALUES (@user_id, (now() AT TIME ZONE 'UTC')::date, @cost_usd::float8)
ON CONFLICT (user_id, day) DO UPDATE SET spent_usd = ai_spend_days.spent_usd + EXCLUDED.spent_usd;

-- AISpendLockUser serialises, until the transaction ends, the spend checks of one user
-- across every instance: the check reads counts that the same transaction then changes
-- (it enqueues), so two concurrent requests must not both read the old counts.
-- name: AISpendLockUser :exec
SELECT pg_advisory_xact_lock(hashtextextended('packshot.ai_spend.user:' || @user_id::text, 0));

-- AISpendLockGlobal serialises the spend checks of every user, for the global ceiling.
-- Taken after AISpendLockUser, never before, so two checks cannot deadlock.
-- name: AISpendLockGlobal :exec
SELECT pg_advisory_xact_lock(hashtextextended('packshot.ai_spend.global', 0));

-- AISpendUserUsage returns, for one user, the unfinished jobs of the given (paid) kinds,
-- the projects with an unfinished image job (image_kinds) and no cut-out yet (each will
-- pay for one when a remover is configured), what the providers charged today (UTC), and
-- the seconds until the UTC day ends, when the daily budget starts again.
-- name: AISpendUserUsage :one
SELECT
    (SELECT count(*) FROM job_queue j
     WHERE j.user_id = @user_id AND j.status IN ('pending', 'processing')
       AND j.kind = ANY(@kinds::text[]))::bigint AS jobs_in_flight,
    (SELECT count(DISTINCT j.project_id) FROM job_queue j
     JOIN source_images si ON si.project_id = j.project_id
     WHERE j.user_id = @user_id AND j.status IN ('pending', 'processing')
       AND j.kind = ANY(@image_kinds::text[]) AND si.cutout_key = '')::bigint AS cutouts_pending,
    (SELECT coalesce(sum(s.spent_usd), 0) FROM ai_spend_days s
     WHERE s.user_id = @user_id AND s.day = (now() AT TIME ZONE 'UTC')::date)::float8 AS spent_usd,
    extract(epoch FROM (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day')
                       - (now() AT TIME ZONE 'UTC'))::float8 AS reset_seconds;

-- AISpendGlobalUsage is AISpendUserUsage for every user together.
-- name: AISpendGlobalUsage :one
SELECT
    (SELECT count(*) FROM job_queue j
     WHERE j.status IN ('pending', 'processing') AND j.kind = ANY(@kinds::text[]))::bigint AS jobs_in_flight,
    (SELECT count(DISTINCT j.project_id) FROM job_queue j
     JOIN source_images si ON si.project_id = j.project_id
     WHERE j.status IN ('pending', 'processing')
       AND j.kind = ANY(@image_kinds::text[]) AND si.cutout_key = '')::bigint AS cutouts_pending,
    (SELECT coalesce(sum(s.spent_usd), 0) FROM ai_spend_days s
     WHERE s.day = (now() AT TIME ZONE 'UTC')::date)::float8 AS spent_usd,
    extract(epoch FROM (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day')
                       - (now() AT TIME ZONE 'UTC'))::float8 AS reset_seconds;
