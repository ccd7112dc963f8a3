-- +goose Up
-- job_queue holds every unit of background work. The table name and the five statuses are
-- a contract with operators, who run monitoring SQL against them:
--   pending    waiting to run (run_at may be in the future: backoff, snooze, scheduled)
--   processing claimed by a worker that holds a lease until locked_until
--   completed  finished successfully (completed_at set)
--   failed     gave up: permanent error or max_attempts spent (completed_at set); kept,
--              and retryable by hand until pruned
--   cancelled  cancelled by a user or operator (completed_at set)
-- attempts counts runs that spent an attempt; the claim increments it, so (id, attempts)
-- names one run, and every write-back compares it (a late write never clobbers a newer run).
-- user_id is TEXT: the auth provider's subject; the claim is fair across it.
CREATE TABLE job_queue (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind           text NOT NULL CHECK (kind <> ''),
    queue          text NOT NULL DEFAULT 'default',
    user_id        text NOT NULL DEFAULT '',
    project_id     uuid NULL REFERENCES projects (id) ON DELETE CASCADE,
    payload        jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    priority       integer NOT NULL DEFAULT 0,
    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts   integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at         timestamptz NOT NULL DEFAULT now(),
    locked_by      text NULL,
    locked_until   timestamptz NULL,
    progress       integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    progress_stage text NOT NULL DEFAULT '',
    last_error     text NULL,
    errors         jsonb NOT NULL DEFAULT '[]',
    unique_key     text NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz NULL,
    completed_at   timestamptz NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Every state change rewrites the row and status appears in partial-index predicates, so
-- no update is HOT: each non-partial index costs a write per transition. Hence only the
-- primary key is a full index; everything else is partial and touched only by the rows
-- it covers.

-- The claim's global head: pending jobs by priority then run_at.
CREATE INDEX job_queue_pending_idx ON job_queue (queue, priority, run_at)
    WHERE status = 'pending';
-- The claim's per-user heads (a loose index scan over user_id finds each user's first
-- jobs in a few probes even with a million pending rows).
CREATE INDEX job_queue_pending_user_idx ON job_queue (queue, user_id, priority, run_at)
    WHERE status = 'pending';
-- The rescuer: running jobs by lease expiry. locked_until is set exactly while a job is
-- processing; the predicate deliberately avoids status = 'processing', so that the
-- planner never mistakes this index for a cheap way into the batched write-backs (which
-- filter on that status, and must be driven by their id lists through the primary key
-- however stale the statistics are in the middle of a burst).
CREATE INDEX job_queue_locked_until_idx ON job_queue (locked_until)
    WHERE locked_until IS NOT NULL;
-- Idempotent enqueue: one unfinished job per unique_key.
CREATE UNIQUE INDEX job_queue_unique_key_idx ON job_queue (unique_key)
    WHERE status IN ('pending', 'processing');
-- A project's jobs (status aggregation, job lists, ON DELETE CASCADE).
CREATE INDEX job_queue_project_idx ON job_queue (project_id, created_at)
    WHERE project_id IS NOT NULL;
-- Pruning finished jobs after the retention period.
CREATE INDEX job_queue_finished_idx ON job_queue (completed_at)
    WHERE status IN ('completed', 'failed', 'cancelled');
-- The operators' "latest failures" query.
CREATE INDEX job_queue_failed_idx ON job_queue (created_at)
    WHERE status = 'failed';

-- enqueue_job is the SQL entry point: any Postgres client can enqueue work with
--   SELECT enqueue_job('image.main', '{"x":1}', 'user-1');
-- and a running dispatcher picks it up. With unique_key set and an unfinished job holding
-- that key, it returns the existing job instead. Unlike packshot's own enqueue path it
-- sends a NOTIFY on the channel packshot_queue so dispatchers wake at once: a transaction
-- that NOTIFYs takes a global lock at commit, which serialises such commits (about 800/s on
-- the build machine against about 4,600/s without it). For bulk loads pass notify => false
-- and rely on the dispatchers' poll (1 s by default), or NOTIFY once at the end.
-- +goose StatementBegin
CREATE FUNCTION enqueue_job(
    kind         text,
    payload      jsonb DEFAULT '{}',
    user_id      text DEFAULT '',
    project_id   uuid DEFAULT NULL,
    queue        text DEFAULT 'default',
    priority     integer DEFAULT 0,
    max_attempts integer DEFAULT 5,
    run_at       timestamptz DEFAULT now(),
    unique_key   text DEFAULT NULL,
    notify       boolean DEFAULT true
) RETURNS job_queue
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    j job_queue;
BEGIN
    LOOP
        INSERT INTO job_queue AS q (kind, payload, user_id, project_id, queue, priority,
                                    max_attempts, run_at, unique_key)
        VALUES (enqueue_job.kind, COALESCE(enqueue_job.payload, '{}'),
                COALESCE(enqueue_job.user_id, ''), enqueue_job.project_id,
                COALESCE(enqueue_job.queue, 'default'), COALESCE(enqueue_job.priority, 0),
                COALESCE(enqueue_job.max_attempts, 5), COALESCE(enqueue_job.run_at, now()),
                enqueue_job.unique_key)
        ON CONFLICT (unique_key) WHERE status IN ('pending', 'processing') DO NOTHING
        RETURNING * INTO j;
        IF j.id IS NOT NULL THEN
            IF notify THEN
                PERFORM pg_notify('packshot_queue', 'w:sql:' || j.queue);
            END IF;
            RETURN j;
        END IF;
        SELECT * INTO j FROM job_queue q
        WHERE q.unique_key = enqueue_job.unique_key AND q.status IN ('pending', 'processing');
        IF j.id IS NOT NULL THEN
            RETURN j;
        END IF;
        -- The holder of the key finished between the two statements: try again.
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION enqueue_job(text, jsonb, text, uuid, text, integer, integer, timestamptz, text, boolean);
DROP TABLE job_queue;
