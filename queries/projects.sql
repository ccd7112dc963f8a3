-- ProjectCreate inserts a project for its owner; status starts at 'draft' (no photo yet).
-- name: ProjectCreate :one
INSERT INTO projects (user_id, name, marketplace)
VALUES (@user_id, @name, @marketplace)
RETURNING *;

-- ProjectGet returns a project by id whatever its owner; callers check ownership.
-- name: ProjectGet :one
SELECT * FROM projects WHERE id = @id;

-- ProjectGetForUser returns a project only when it belongs to the user, so that another
-- user's id is answered like an unknown one.
-- name: ProjectGetForUser :one
SELECT * FROM projects WHERE id = @id AND user_id = @user_id;

-- ProjectListForUser pages a user's projects newest first. Pass the last row's
-- (created_at, id) as the cursor; the zero time and nil UUID start from the newest.
-- name: ProjectListForUser :many
SELECT * FROM projects
WHERE user_id = @user_id
  AND (@cursor_created_at::timestamptz = 'epoch'::timestamptz
       OR (created_at, id) < (@cursor_created_at::timestamptz, @cursor_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- ProjectRename changes a project's name and bumps its version.
-- name: ProjectRename :one
UPDATE projects SET name = @name, version = version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- ProjectSetStatus records a new status and bumps the version, in the caller's transaction.
-- name: ProjectSetStatus :one
UPDATE projects SET status = @status, version = version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- ProjectDelete removes a project of the user; it returns the number of rows removed.
-- name: ProjectDelete :execrows
DELETE FROM projects WHERE id = @id AND user_id = @user_id;
