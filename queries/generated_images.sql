-- GeneratedImageInsert records an image made for a project.
-- name: GeneratedImageInsert :one
INSERT INTO generated_images (project_id, user_id, job_id, type, storage_key, width, height,
                              bytes, mime, provider, model, prompt, compliance, cost_usd)
VALUES (@project_id, @user_id, @job_id, @type, @storage_key, @width, @height,
        @bytes, @mime, @provider, @model, @prompt, @compliance, @cost_usd)
RETURNING *;

-- GeneratedImageSupersede marks the project's other current images of a type as replaced
-- by the image new_id.
-- name: GeneratedImageSupersede :exec
UPDATE generated_images SET superseded_by = @new_id::uuid
WHERE project_id = @project_id AND type = @type AND id <> @new_id::uuid AND superseded_by IS NULL;

-- GeneratedImageListCurrent returns a project's current images, oldest first.
-- name: GeneratedImageListCurrent :many
SELECT * FROM generated_images
WHERE project_id = @project_id AND superseded_by IS NULL
ORDER BY created_at, id;

-- GeneratedImageGetByJob returns the image a job already made, so a job delivered twice
-- (at-least-once) does not make and pay for it again.
-- name: GeneratedImageGetByJob :one
SELECT * FROM generated_images WHERE job_id = @job_id ORDER BY created_at DESC LIMIT 1;
