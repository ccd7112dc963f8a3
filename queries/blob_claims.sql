-- Blob claims and the garbage collector's questions about blob keys. Keys are storage
-- keys (internal/storage): the content hash plus an extension. The advisory locks here use
-- the two-integer form with a class of their own (lock_class), so they never meet the
-- queue's single-bigint maintenance lock.
--
-- Every time in this file is the database's: claims are dated, and the grace period is
-- measured, by one clock, whatever the skew between application servers.

-- BlobLockShared takes the shared advisory lock of one key for the current transaction.
-- Writers claiming the same key do not wait for each other; they wait only for a
-- collector deleting that key (BlobLockMany).
-- name: BlobLockShared :exec
SELECT pg_advisory_xact_lock_shared(@lock_class::int, hashtext(@key::text));

-- BlobClaimUpsert records that key is about to be stored and referenced, dated by the
-- database's clock at the moment of the statement (clock_timestamp, not the transaction's
-- start, so time spent waiting for BlobLockShared does not make the claim look older).
-- A claim only ever moves later.
-- name: BlobClaimUpsert :exec
INSERT INTO blob_claims (key, claimed_at) VALUES (@key, clock_timestamp())
ON CONFLICT (key) DO UPDATE SET claimed_at = GREATEST(blob_claims.claimed_at, EXCLUDED.claimed_at);

-- BlobTryCollectorLock takes the collector's advisory lock for the current transaction if
-- no other instance holds it: one instance deletes at a time.
-- name: BlobTryCollectorLock :one
SELECT pg_try_advisory_xact_lock(@lock_key::bigint) AS acquired;

-- BlobLockMany takes the exclusive advisory locks of keys for the current transaction, in
-- hash order so that two collectors can never deadlock (a writer holds only one).
-- name: BlobLockMany :exec
SELECT pg_advisory_xact_lock(@lock_class::int, h)
FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(@keys::text[]) AS k ORDER BY 1) AS locks;

-- BlobListUnreferenced returns those of keys (each listed with its storage modification
-- time, mod_times[i] for keys[i]) that were modified at least grace_seconds ago, that no
-- row references (a project's photo, its cut-out, or a generated image, superseded or
-- not), and that nobody claimed in the last grace_seconds. "Ago" is the database's now()
-- (the transaction's start, so the cutoff is never later than the check). Without locks
-- the answer is only a list of candidates; under BlobLockMany's locks it stays true until
-- commit for every key a writer claims through BlobClaimUpsert.
-- name: BlobListUnreferenced :many
SELECT p.k::text AS key
FROM (SELECT k, m FROM unnest(@keys::text[]) WITH ORDINALITY AS ks(k, i)
      JOIN unnest(@mod_times::timestamptz[]) WITH ORDINALITY AS ms(m, j) ON ks.i = ms.j) AS p
WHERE p.m <= now() - make_interval(secs => @grace_seconds::float8)
  AND NOT EXISTS (SELECT 1 FROM source_images s WHERE s.storage_key = p.k)
  AND NOT EXISTS (SELECT 1 FROM source_images s WHERE s.cutout_key = p.k AND s.cutout_key <> '')
  AND NOT EXISTS (SELECT 1 FROM generated_images g WHERE g.storage_key = p.k)
  AND NOT EXISTS (SELECT 1 FROM blob_claims c WHERE c.key = p.k
                  AND c.claimed_at > now() - make_interval(secs => @grace_seconds::float8))
ORDER BY p.k;

-- BlobClaimPrune deletes up to row_limit claims made at least grace_seconds ago (by the
-- database's clock), which protect nothing any more. The outer condition is repeated so
-- that a claim renewed by a concurrent writer (a newer row version) is re-checked and kept.
-- name: BlobClaimPrune :execrows
DELETE FROM blob_claims AS d
WHERE d.claimed_at <= now() - make_interval(secs => @grace_seconds::float8)
  AND d.key IN (SELECT c.key FROM blob_claims AS c
                WHERE c.claimed_at <= now() - make_interval(secs => @grace_seconds::float8)
                LIMIT @row_limit);
