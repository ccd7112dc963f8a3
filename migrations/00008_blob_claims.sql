-- +goose Up
-- blob_claims is how an upload tells the blob garbage collector "I am about to store this
-- key and record a row for it": a writer claims the key (under the key's shared advisory
-- lock) before it stores the blob, and the collector deletes a blob only under the key's
-- exclusive lock and only when no claim younger than the grace period exists. The
-- argument is spelled out on pack.BlobCollector. A claim protects nothing once older than
-- the grace period; the collector deletes such claims as it goes.
CREATE TABLE blob_claims (
    key        text PRIMARY KEY,
    claimed_at timestamptz NOT NULL
);

-- The collector asks, for a page of keys, whether any row still references each one.
CREATE INDEX source_images_storage_key_idx ON source_images (storage_key);
CREATE INDEX source_images_cutout_key_idx ON source_images (cutout_key) WHERE cutout_key <> '';
CREATE INDEX generated_images_storage_key_idx ON generated_images (storage_key);

-- +goose Down
DROP INDEX generated_images_storage_key_idx;
DROP INDEX source_images_cutout_key_idx;
DROP INDEX source_images_storage_key_idx;
DROP TABLE blob_claims;
