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

-- ProjectInsert creates a project with its product data; status starts at 'draft'.
-- name: ProjectInsert :one
INSERT INTO projects (user_id, name, marketplace, title, features, dimensions,
                      dim_width, dim_height, dim_depth, dim_unit)
VALUES (@user_id, @name, @marketplace, @title, @features::text[], @dimensions,
        @dim_width, @dim_height, @dim_depth, @dim_unit)
RETURNING *;

-- ProjectLock returns a project and locks its row until the transaction ends. Every
-- transaction that changes a project's jobs, images or status takes this lock first, so
-- status recomputations of one project run one after the other and each sees the
-- previous one's committed changes.
-- name: ProjectLock :one
SELECT * FROM projects WHERE id = @id FOR UPDATE;

-- ProjectListAll pages every user's projects newest first, for the service role. The
-- cursor is as for ProjectListForUser.
-- name: ProjectListAll :many
SELECT * FROM projects
WHERE (@cursor_created_at::timestamptz = 'epoch'::timestamptz
       OR (created_at, id) < (@cursor_created_at::timestamptz, @cursor_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- ProjectUpdateDetails replaces a project's editable fields and bumps its version.
-- name: ProjectUpdateDetails :one
UPDATE projects
SET name = @name, title = @title, features = @features::text[], dimensions = @dimensions,
    dim_width = @dim_width, dim_height = @dim_height, dim_depth = @dim_depth, dim_unit = @dim_unit,
    version = version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- ProjectSetState records a recomputed status and progress and bumps the version, in the
-- transaction of the change that moved them.
-- name: ProjectSetState :one
UPDATE projects
SET status = @status, progress = @progress, version = version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- ProjectAddCost adds what a provider call cost to the project's total and bumps the
-- version.
-- name: ProjectAddCost :one
UPDATE projects
SET cost_usd = cost_usd + @cost_usd::double precision, version = version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- ProjectDeleteByID removes a project whatever its owner (callers check ownership first);
-- its photo, images and idempotency keys go with it.
-- name: ProjectDeleteByID :execrows
DELETE FROM projects WHERE id = @id;

-- ProjectLatestJobs returns the latest image job of each kind of a project: the jobs its
-- status, progress and image slots are computed from. It reads job_queue through its
-- project index.
-- name: ProjectLatestJobs :many
SELECT DISTINCT ON (kind) * FROM job_queue
WHERE project_id = @project_id::uuid AND kind LIKE 'image.%'
ORDER BY kind, created_at DESC, id DESC;

-- ProjectThumbnails returns, for each project id, the storage key of its thumbnail: the
-- current main image, else the uploaded photo, else ''.
-- name: ProjectThumbnails :many
SELECT p.id::uuid AS project_id,
       COALESCE((SELECT g.storage_key FROM generated_images g
                 WHERE g.project_id = p.id AND g.type = 'main' AND g.superseded_by IS NULL
                 ORDER BY g.created_at DESC LIMIT 1),
                s.storage_key, '')::text AS storage_key
FROM unnest(@ids::uuid[]) AS p(id)
LEFT JOIN source_images s ON s.project_id = p.id;

-- ProjectCountGenerating counts a user's projects with a pack in progress, other than
-- the one named, for the packs-in-flight limit (PACKSHOT_MAX_PACKS_IN_FLIGHT). Shared by
-- every instance.
-- name: ProjectCountGenerating :one
SELECT count(*) FROM projects
WHERE user_id = @user_id AND status = 'generating' AND id <> @except_id;
