-- +goose Up
-- A project is one product: its photo, its marketplace and the image pack made for it.
-- user_id is TEXT, not UUID: it is the auth provider's subject and need not be a UUID.
-- version only ever increases; every visible change bumps it, and realtime subscribers
-- resume from it.
CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     text NOT NULL CHECK (user_id <> ''),
    name        text NOT NULL CHECK (name <> ''),
    marketplace text NOT NULL DEFAULT 'amazon'
                CHECK (marketplace IN ('amazon', 'etsy', 'shopify')),
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'ready', 'generating', 'completed', 'partial', 'failed')),
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The project list: a user's projects, newest first, paged by (created_at, id).
CREATE INDEX projects_user_created_idx ON projects (user_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE projects;
