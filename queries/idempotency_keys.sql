-- IdempotencyKeyInsert claims a key for a request; it returns no row when the user
-- already used the key.
-- name: IdempotencyKeyInsert :one
INSERT INTO idempotency_keys (user_id, key, project_id, request)
VALUES (@user_id, @key, @project_id, @request)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING *;

-- IdempotencyKeyGet returns a used key with the jobs its first request enqueued.
-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE user_id = @user_id AND key = @key;

-- IdempotencyKeySetJobs records the jobs a keyed request enqueued.
-- name: IdempotencyKeySetJobs :exec
UPDATE idempotency_keys SET job_ids = @job_ids::uuid[] WHERE user_id = @user_id AND key = @key;
