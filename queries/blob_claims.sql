-- Blob claims and the garbage collector's questions about blob keys. Keys are storage
-- keys (internal/storage): the content hash plus an extension. The advisory locks here use
-- the two-integer form with a class of their own (lock_class), so they never meet the
-- queue's single-bigint maintenance lock.

-- BlobLockShared takes the shared advisory lock of one key for the current transaction.
-- Writers claiming the same key do not wait for each other; they wait only for a
-- collector deleting that key (BlobLockMany).
-- name: BlobLockShared :exec
SELECT pg_advisory_xact_lock_shared(@lock_class::int, hashtext(@key::text));

-- BlobClaimUpsert records that key is about to be stored and referenced, at claimed_at
-- (a claim only ever moves later).
-- name: BlobClaimUpsert :exec
INSERT INTO blob_claims (key, claimed_at) VALUES (@key, @claimed_at)
ON CONFLICT (key) DO UPDATE SET claimed_at = GREATEST(blob_claims.claimed_at, EXCLUDED.claimed_at);

-- BlobTryCollectorLock takes the collector's advisory lock for the current transaction if
-- no other instance holds it: one instance collects at a time.
-- name: BlobTryCollectorLock :one
SELECT pg_try_advisory_xact_lock(@lock_key::bigint) AS acquired;

-- BlobLockMany takes the exclusive advisory locks of keys for the current transaction, in
-- hash order so that two collectors can never deadlock (a writer holds only one).
-- name: BlobLockMany :exec
SELECT pg_advisory_xact_lock(@lock_class::int, h)
FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(@keys::text[]) AS k ORDER BY 1) AS locks;

-- BlobListUnreferenced returns those of keys that no row references (a project's photo,
-- its cut-out, or a generated image, superseded or not) and that nobody claimed after
-- claimed_after. Under BlobLockMany's locks, the answer stays true until commit for
-- every key a writer claims through BlobClaimUpsert.
-- name: BlobListUnreferenced :many
SELECT k::text AS key FROM unnest(@keys::text[]) AS k
WHERE NOT EXISTS (SELECT 1 FROM source_images s WHERE s.storage_key = k)
  AND NOT EXISTS (SELECT 1 FROM source_images s WHERE s.cutout_key = k AND s.cutout_key <> '')
  AND NOT EXISTS (SELECT 1 FROM generated_images g WHERE g.storage_key = k)
  AND NOT EXISTS (SELECT 1 FROM blob_claims c WHERE c.key = k AND c.claimed_at > @claimed_after)
ORDER BY k;

-- BlobClaimPrune deletes up to row_limit claims made at or before claimed_before, which
-- protect nothing any more. The outer condition is repeated so that a claim renewed by a
-- concurrent writer (a newer row version) is re-checked and kept.
-- name: BlobClaimPrune :execrows
DELETE FROM blob_claims AS d
WHERE d.claimed_at <= @claimed_before
  AND d.key IN (SELECT c.key FROM blob_claims AS c WHERE c.claimed_at <= @claimed_before LIMIT @row_limit);
