-- +goose Up
-- The AI spend check counts one user's unfinished jobs of the paid kinds (and the
-- projects among them still without a cut-out) under the spend advisory locks: every
-- paid enqueue of that user waits on the count. Without this index it read every user's
-- unfinished jobs (through job_queue_unique_key_idx, whose predicate is the same) and
-- filtered them; with it, only the user's. The global ceiling's count reads every
-- unfinished job anyway, which job_queue_unique_key_idx already serves, so it gets no
-- index of its own (each index on job_queue costs a write per state transition).
CREATE INDEX job_queue_unfinished_user_kind_idx ON job_queue (user_id, kind) INCLUDE (project_id)
    WHERE status IN ('pending', 'processing');

-- +goose Down
DROP INDEX job_queue_unfinished_user_kind_idx;
