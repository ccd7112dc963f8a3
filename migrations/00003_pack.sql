-- +goose Up
-- The pack: what a project knows about its product, the photo it was made from and the
-- images made for it. user_id is TEXT everywhere (the auth provider's subject).

-- Product data the renderers draw (title, up to five features, dimensions as the user
-- typed them and as parsed; dim_unit '' means none given), and the project's aggregate
-- state, recomputed in the transaction of every change: progress 0–100 over its latest
-- jobs, cost_usd summed over every provider call made for it.
ALTER TABLE projects
    ADD COLUMN title      text NOT NULL DEFAULT '',
    ADD COLUMN features   text[] NOT NULL DEFAULT '{}',
    ADD COLUMN dimensions text NOT NULL DEFAULT '',
    ADD COLUMN dim_width  double precision NOT NULL DEFAULT 0,
    ADD COLUMN dim_height double precision NOT NULL DEFAULT 0,
    ADD COLUMN dim_depth  double precision NOT NULL DEFAULT 0,
    ADD COLUMN dim_unit   text NOT NULL DEFAULT '',
    ADD COLUMN progress   integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    ADD COLUMN cost_usd   double precision NOT NULL DEFAULT 0,
    ADD CONSTRAINT projects_features_max CHECK (cardinality(features) <= 5);

-- The uploaded photo: one per project (a new upload replaces it). cutout_key caches the
-- product cut out of it, so the images of a pack pay for background removal once.
CREATE TABLE source_images (
    project_id      uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id         text NOT NULL,
    storage_key     text NOT NULL,
    width           integer NOT NULL,
    height          integer NOT NULL,
    bytes           bigint NOT NULL,
    mime            text NOT NULL,
    cutout_key      text NOT NULL DEFAULT '',
    cutout_provider text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Every image made for a project. A new image of a type supersedes the previous one
-- (superseded_by points at it), so the history and its costs stay while the snapshot shows
-- the current image per type. compliance is {"ok": bool, "violations": [{code, message}]}.
CREATE TABLE generated_images (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       text NOT NULL,
    job_id        uuid,
    type          text NOT NULL
                  CHECK (type IN ('main', 'lifestyle', 'infographic', 'dimensions', 'detail', 'custom')),
    storage_key   text NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    bytes         bigint NOT NULL,
    mime          text NOT NULL,
    provider      text NOT NULL,
    model         text NOT NULL DEFAULT '',
    prompt        text NOT NULL DEFAULT '',
    compliance    jsonb NOT NULL DEFAULT '{"ok": true, "violations": []}',
    cost_usd      double precision NOT NULL DEFAULT 0,
    superseded_by uuid REFERENCES generated_images (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The current images of a project.
CREATE INDEX generated_images_current_idx ON generated_images (project_id, type, created_at DESC)
    WHERE superseded_by IS NULL;

-- The image a job made (a job delivered twice finds it instead of paying again).
CREATE INDEX generated_images_job_idx ON generated_images (job_id) WHERE job_id IS NOT NULL;

-- Idempotency keys of generate requests: the first request with a key records the jobs it
-- enqueued, in the same transaction; a repeat with the same key returns those jobs.
CREATE TABLE idempotency_keys (
    user_id    text NOT NULL,
    key        text NOT NULL CHECK (key <> '' AND length(key) <= 255),
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    request    text NOT NULL,
    job_ids    uuid[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE generated_images;
DROP TABLE source_images;
ALTER TABLE projects
    DROP CONSTRAINT projects_features_max,
    DROP COLUMN title, DROP COLUMN features, DROP COLUMN dimensions,
    DROP COLUMN dim_width, DROP COLUMN dim_height, DROP COLUMN dim_depth, DROP COLUMN dim_unit,
    DROP COLUMN progress, DROP COLUMN cost_usd;
