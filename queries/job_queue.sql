-- JobInsert enqueues one job. With a unique_key that an unfinished job already holds it
-- inserts nothing and returns no row (the caller then reads the holder with
-- JobGetByUniqueKey). It never NOTIFYs: the caller wakes dispatchers after commit.
-- name: JobInsert :many
INSERT INTO job_queue (id, kind, queue, user_id, project_id, payload, priority,
                       max_attempts, run_at, unique_key)
VALUES (@id, @kind, @queue, @user_id, @project_id, @payload, @priority,
        @max_attempts, COALESCE(sqlc.narg(run_at)::timestamptz, now()), sqlc.narg(unique_key))
ON CONFLICT (unique_key) WHERE status IN ('pending', 'processing') DO NOTHING
RETURNING *;

-- JobGetByUniqueKey returns the unfinished job holding a unique key.
-- name: JobGetByUniqueKey :one
SELECT * FROM job_queue
WHERE unique_key = @unique_key AND status IN ('pending', 'processing');

-- JobGet returns a job by id whatever its owner; callers check ownership.
-- name: JobGet :one
SELECT * FROM job_queue WHERE id = @id;

-- JobList returns jobs newest first, filtered by whichever of user, project, status and
-- kind are given (NULL means any).
-- name: JobList :many
SELECT * FROM job_queue
WHERE (sqlc.narg(user_id)::text IS NULL OR user_id = sqlc.narg(user_id))
  AND (sqlc.narg(project_id)::uuid IS NULL OR project_id = sqlc.narg(project_id))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- JobClaim moves up to max_jobs runnable jobs of the given kinds to processing for one
-- worker, in one statement, and returns them.
--
-- Order: priority (lower first), then fairness across user_id, then run_at. Candidates are
-- a bounded set: the global head (scan_limit jobs by priority, run_at) plus the first
-- per_user jobs of up to max_users users with pending work, found by a loose index scan
-- over job_queue_pending_user_idx (a few index probes per user, so the claim stays fast
-- with a million pending rows). Each candidate is ranked within its user; a user's n-th
-- job competes with every other user's n-th; among equals, the user this worker served
-- least recently goes first (served_users/served_seqs: the worker's memory of whom it
-- started last, higher seq = more recent; unknown users count as never served). So one
-- user's backlog cannot delay another user's first job beyond the jobs already running.
-- kind_limits caps how many jobs of each kind this claim may take (the worker's free
-- slots per kind).
--
-- Locking: FOR UPDATE SKIP LOCKED on the picked rows, so concurrent claimers never block
-- each other or take the same job; the status re-check after locking drops rows another
-- claimer took between our snapshot and our lock. attempts is incremented here, so
-- (id, attempts) names this run for every later write-back.
--
-- candidates (the same on every row) is how many jobs the claim picked before locking:
-- more than it returned means other claimers hold some, so more work may be waiting;
-- no more than it returned, with fewer rows than max_jobs, means the queue is drained.
-- name: JobClaim :many
WITH RECURSIVE users AS (
    (SELECT j.user_id, 1 AS n
     FROM job_queue j
     WHERE j.status = 'pending' AND j.queue = @queue
     ORDER BY j.user_id
     LIMIT 1)
    UNION ALL
    SELECT (SELECT j.user_id
            FROM job_queue j
            WHERE j.status = 'pending' AND j.queue = @queue AND j.user_id > u.user_id
            ORDER BY j.user_id
            LIMIT 1),
           u.n + 1
    FROM users u
    WHERE u.user_id IS NOT NULL AND u.n < @max_users::int
),
heads AS (
    SELECT j.id, j.user_id, j.kind, j.priority, j.run_at
    FROM job_queue j
    WHERE j.status = 'pending' AND j.queue = @queue AND j.run_at <= now()
      AND j.kind = ANY (@kinds::text[])
    ORDER BY j.priority, j.run_at
    LIMIT @scan_limit::int
),
user_heads AS (
    SELECT h.id, h.user_id, h.kind, h.priority, h.run_at
    FROM users u
    CROSS JOIN LATERAL (
        SELECT j.id, j.user_id, j.kind, j.priority, j.run_at
        FROM job_queue j
        WHERE j.status = 'pending' AND j.queue = @queue AND j.user_id = u.user_id
          AND j.run_at <= now() AND j.kind = ANY (@kinds::text[])
        ORDER BY j.user_id, j.priority, j.run_at -- user_id is fixed: steers the planner to job_queue_pending_user_idx
        LIMIT @per_user::int
    ) h
    WHERE u.user_id IS NOT NULL
),
candidates AS (
    SELECT * FROM heads
    UNION
    SELECT * FROM user_heads
),
ranked AS (
    SELECT c.id, c.kind, c.priority, c.run_at,
           row_number() OVER (PARTITION BY c.user_id ORDER BY c.priority, c.run_at) AS user_rank,
           COALESCE(s.seq, 0) AS served
    FROM candidates c
    LEFT JOIN (SELECT unnest(@served_users::text[]) AS user_id,
                      unnest(@served_seqs::bigint[]) AS seq) AS s
      ON s.user_id = c.user_id
),
picked AS (
    SELECT r.id, r.priority, r.user_rank, r.served, r.run_at
    FROM (SELECT r.*,
                 row_number() OVER (PARTITION BY r.kind
                                    ORDER BY r.priority, r.user_rank, r.served, r.run_at) AS kind_rank
          FROM ranked r) r
    JOIN (SELECT unnest(@kinds::text[]) AS kind, unnest(@kind_limits::int[]) AS lim) AS l
      ON l.kind = r.kind
    WHERE r.kind_rank <= l.lim
),
locked AS (
    SELECT j.id
    FROM job_queue j
    JOIN picked p ON p.id = j.id
    WHERE j.status = 'pending'
    ORDER BY p.priority, p.user_rank, p.served, p.run_at
    LIMIT @max_jobs::int
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE job_queue q
SET status = 'processing',
    attempts = q.attempts + 1,
    locked_by = @worker::text,
    locked_until = now() + make_interval(secs => @lease_seconds::float8),
    started_at = now(),
    updated_at = now()
FROM locked
WHERE q.id = locked.id
RETURNING q.id, q.kind, q.queue, q.user_id, q.project_id, q.payload, q.status, q.priority,
          q.attempts, q.max_attempts, q.run_at, q.locked_by, q.locked_until, q.progress,
          q.progress_stage, q.last_error, q.errors, q.unique_key, q.created_at,
          q.started_at, q.completed_at, q.updated_at,
          (SELECT count(*) FROM picked)::int AS candidates;

-- JobCompleteMany marks runs completed, compare-and-set on (id, attempts) and
-- status = 'processing': a run that was cancelled, rescued or released meanwhile is left
-- alone. It returns the rows it changed.
--
-- The batched write-backs find their rows through the primary key (id = ANY) and each
-- row's attempt by its position in the arrays, rather than joining unnest(): in the
-- middle of a burst the statistics still say "nothing is processing", and the join plan
-- the planner then picks is quadratic in the batch size.
-- name: JobCompleteMany :many
UPDATE job_queue q
SET status = 'completed',
    progress = 100,
    completed_at = now(),
    locked_by = NULL,
    locked_until = NULL,
    updated_at = now()
WHERE q.id = ANY (@ids::uuid[]) AND q.status = 'processing'
  AND q.attempts = (@attempts::int[])[array_position(@ids::uuid[], q.id)]
RETURNING q.*;

-- JobCompleteManyFast is JobCompleteMany returning only the ids, for batches in which no
-- job has a project (nothing needs the rows back).
-- name: JobCompleteManyFast :execrows
UPDATE job_queue q
SET status = 'completed',
    progress = 100,
    completed_at = now(),
    locked_by = NULL,
    locked_until = NULL,
    updated_at = now()
WHERE q.id = ANY (@ids::uuid[]) AND q.status = 'processing'
  AND q.attempts = (@attempts::int[])[array_position(@ids::uuid[], q.id)];

-- JobFinishMany writes back runs that did not complete, one outcome per row, with the
-- same compare-and-set as JobCompleteMany:
--   retry   pending again at run_at, the attempt spent, the error recorded
--   snooze  pending again at run_at without spending the attempt (Retry-After)
--   release pending again now without spending the attempt (shutdown)
--   fail    failed for good, the error recorded
-- name: JobFinishMany :many
UPDATE job_queue q
SET status = CASE WHEN d.outcome = 'fail' THEN 'failed' ELSE 'pending' END,
    run_at = CASE WHEN d.outcome = 'fail' THEN q.run_at ELSE d.run_at END,
    attempts = CASE WHEN d.outcome IN ('snooze', 'release') THEN q.attempts - 1 ELSE q.attempts END,
    last_error = CASE WHEN d.outcome IN ('retry', 'fail') THEN d.error ELSE q.last_error END,
    errors = CASE WHEN d.outcome IN ('retry', 'fail')
                  THEN q.errors || jsonb_build_array(jsonb_build_object(
                           'attempt', q.attempts, 'at', now(), 'error', d.error))
                  ELSE q.errors END,
    completed_at = CASE WHEN d.outcome = 'fail' THEN now() END,
    locked_by = NULL,
    locked_until = NULL,
    updated_at = now()
FROM (SELECT j.id,
             (@attempts::int[])[i.n] AS attempt,
             (@outcomes::text[])[i.n] AS outcome,
             (@run_ats::timestamptz[])[i.n] AS run_at,
             (@errors::text[])[i.n] AS error
      FROM job_queue j
      CROSS JOIN LATERAL (SELECT array_position(@ids::uuid[], j.id) AS n) AS i
      WHERE j.id = ANY (@ids::uuid[])) AS d
WHERE q.id = d.id AND q.attempts = d.attempt AND q.status = 'processing'
RETURNING q.*;

-- JobHeartbeat extends the leases of one worker's runs and returns the ids it extended;
-- a run missing from the answer was cancelled or rescued, and its handler must stop.
-- name: JobHeartbeat :many
UPDATE job_queue q
SET locked_until = now() + make_interval(secs => @lease_seconds::float8)
WHERE q.id = ANY (@ids::uuid[]) AND q.status = 'processing'
  AND q.attempts = (@attempts::int[])[array_position(@ids::uuid[], q.id)]
  AND q.locked_by = @worker::text
RETURNING q.id;

-- JobSetProgress records a run's progress (0-100) and stage.
-- name: JobSetProgress :many
UPDATE job_queue
SET progress = @progress, progress_stage = @stage, updated_at = now()
WHERE id = @id AND attempts = @attempt AND status = 'processing'
RETURNING *;

-- JobListExpired returns runs whose lease has expired, oldest first.
-- name: JobListExpired :many
SELECT id, attempts FROM job_queue
WHERE locked_until < now() AND status = 'processing'
ORDER BY locked_until
LIMIT @row_limit;

-- JobRescueMany returns expired runs to pending (or fails them when their attempts are
-- spent), compare-and-set on (id, attempts) and an expired lease, so a run that completed,
-- or heartbeated, after JobListExpired read it is never reset.
-- name: JobRescueMany :many
UPDATE job_queue q
SET status = CASE WHEN q.attempts >= q.max_attempts THEN 'failed' ELSE 'pending' END,
    completed_at = CASE WHEN q.attempts >= q.max_attempts THEN now() END,
    run_at = now(),
    last_error = 'lease expired: the worker stopped heartbeating (crash or network loss)',
    errors = q.errors || jsonb_build_array(jsonb_build_object(
        'attempt', q.attempts, 'at', now(), 'error', 'lease expired')),
    locked_by = NULL,
    locked_until = NULL,
    updated_at = now()
WHERE q.id = ANY (@ids::uuid[]) AND q.status = 'processing'
  AND q.attempts = (@attempts::int[])[array_position(@ids::uuid[], q.id)]
  AND q.locked_until < now()
RETURNING q.*;

-- JobCancel cancels a pending or running job and returns it; no row when it was already
-- finished or does not exist.
-- name: JobCancel :many
UPDATE job_queue
SET status = 'cancelled', completed_at = now(), locked_until = NULL, updated_at = now()
WHERE id = @id AND status IN ('pending', 'processing')
RETURNING *;

-- JobRetry puts a failed or cancelled job back to pending with a fresh set of attempts;
-- no row when the job is not failed or cancelled.
-- name: JobRetry :many
UPDATE job_queue
SET status = 'pending', attempts = 0, run_at = now(), progress = 0, progress_stage = '',
    started_at = NULL, completed_at = NULL, locked_by = NULL, locked_until = NULL,
    updated_at = now()
WHERE id = @id AND status IN ('failed', 'cancelled')
RETURNING *;

-- JobPrune deletes up to row_limit finished jobs that finished before the cutoff.
-- name: JobPrune :execrows
DELETE FROM job_queue
WHERE id IN (SELECT f.id FROM job_queue f
             WHERE f.status IN ('completed', 'failed', 'cancelled')
               AND f.completed_at < @before::timestamptz
             LIMIT @row_limit::int);

-- JobStats is the operators' summary: jobs per status and the mean time from enqueue to
-- finish over the jobs that have finished (meaningless when finished is 0).
-- name: JobStats :many
SELECT j.status, count(*) AS count, count(j.completed_at) AS finished,
       COALESCE(AVG(EXTRACT(EPOCH FROM (j.completed_at - j.created_at))), 0)::float8 AS avg_duration_seconds
FROM job_queue j
GROUP BY j.status
ORDER BY j.status;

-- JobDepth counts jobs per status and kind and gives how long the oldest runnable pending
-- job of each kind has been runnable (0 when none), for metrics.
-- name: JobDepth :many
SELECT status, kind, count(*) AS count,
       COALESCE(EXTRACT(EPOCH FROM (now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now()))), 0)::float8 AS oldest_runnable_seconds
FROM job_queue
GROUP BY status, kind
ORDER BY status, kind;

-- JobTryMaintenanceLock takes the maintenance advisory lock for the current transaction
-- if no other instance holds it: the instance that gets it is the leader for this round.
-- name: JobTryMaintenanceLock :one
SELECT pg_try_advisory_xact_lock(@lock_key::bigint) AS acquired;
