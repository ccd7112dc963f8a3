-- SourceImageUpsert records a project's uploaded photo, replacing the previous one and
-- its cached cut-out.
-- name: SourceImageUpsert :one
INSERT INTO source_images (project_id, user_id, storage_key, width, height, bytes, mime)
VALUES (@project_id, @user_id, @storage_key, @width, @height, @bytes, @mime)
ON CONFLICT (project_id) DO UPDATE
SET storage_key = EXCLUDED.storage_key, width = EXCLUDED.width, height = EXCLUDED.height,
    bytes = EXCLUDED.bytes, mime = EXCLUDED.mime, cutout_key = '', cutout_provider = '',
    created_at = now()
RETURNING *;

-- SourceImageGet returns a project's photo.
-- name: SourceImageGet :one
SELECT * FROM source_images WHERE project_id = @project_id;

-- SourceImageSetCutout caches the product cut out of the photo, unless the photo was
-- replaced meanwhile (the storage key no longer matches); it returns the rows changed.
-- name: SourceImageSetCutout :execrows
UPDATE source_images SET cutout_key = @cutout_key, cutout_provider = @cutout_provider
WHERE project_id = @project_id AND storage_key = @storage_key;
