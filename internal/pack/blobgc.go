package pack

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/storage"
)

// Advisory locks of blob collection. blobLockClass is the first half of every per-key lock
// (pg_advisory_xact_lock(class, hashtext(key))); collectorLockKey elects the one instance
// that collects in a round.
const (
	blobLockClass    = 0x626c6f62         // "blob"
	collectorLockKey = 0x7061636b5f626763 // "pack_bgc"
)

// BlobCollectorConfig configures a BlobCollector.
type BlobCollectorConfig struct {
	// Store is the database whose rows reference blobs. Required.
	Store db.Store
	// Blobs is the store to collect. Required.
	Blobs storage.Store
	// Grace is how old a blob, and how old its last claim, must be before an
	// unreferenced blob is deleted; it must exceed the longest time between a writer's
	// claim and the commit of the row that references the blob (seconds in practice).
	// Defaults to 1 h.
	Grace time.Duration
	// Interval is the time between two runs of Run (jittered by up to a tenth).
	// Defaults to 10 min.
	Interval time.Duration
	// BatchSize is how many blobs one run looks at (and so at most deletes). The
	// deletions happen inside the run's transaction, as the locks must cover them, so a
	// run holds one connection for up to BatchSize storage deletions. Defaults to 1000.
	BatchSize int
	// NowFunc is the clock; it must be the one ClaimingBlobs dates claims with. Defaults
	// to time.Now.
	NowFunc func() time.Time
	// Logger receives a line per run that deleted something, and errors. Optional.
	Logger *slog.Logger
	// Metrics are called after each run. Optional.
	Metrics BlobMetrics
}

// BlobMetrics are the collector's metric hooks; nil fields are skipped.
type BlobMetrics struct {
	// DeletedFunc is told how many blobs a run deleted and their bytes.
	DeletedFunc func(blobs int, bytes int64)
	// ErrorsFunc is told how many deletions or runs failed.
	ErrorsFunc func(n int)
}

// BlobCollector deletes the blobs that no row references any more: a deleted project's
// photo, cut-out and images, a replaced photo, images whose recording failed. pack.zip is
// built on the fly and never stored, and there are no thumbnails, so those three columns
// (source_images.storage_key and cutout_key, generated_images.storage_key) are every
// reference there is.
//
// Each run walks one page of BatchSize keys of the store, continuing where the previous
// run stopped and starting over at the end. A blob is deleted only if all of these hold:
//
//  1. it was last modified at least Grace ago (a cheap first filter);
//  2. no row references its key;
//  3. no claim on its key is younger than Grace.
//
// Why a concurrent writer of the same content cannot end with a row whose blob is gone
// (keys are content hashes, so a fresh upload of old bytes finds the old blob in place
// and does not rewrite it, its modification time stays old, and 1 protects nothing):
// every writer goes through ClaimingBlobs, which claims the key (BlobClaimUpsert, under
// the key's shared advisory lock, committed) before it stores the blob, and then commits
// its row. The collector decides 2 and 3 and deletes the blob inside one transaction
// holding the key's exclusive advisory lock. The two lock holders are therefore ordered:
//
//   - Collector first: the blob is deleted before the claim commits, so before the
//     writer stores it; the writer's Put finds no blob and writes it again.
//   - Writer's claim first: the collector sees the claim, dated c, and goes on only if
//     now ≥ c + Grace. The writer commits its row before c + Grace (the condition on
//     Grace above), so before the collector's check runs, and 2 sees the row.
//
// Either way the row's blob exists. The argument compares the writer's clock with the
// collector's; skew between instances eats into Grace, which is why Grace is hours, not
// seconds. Expired claims are deleted as the collector goes.
//
// Only one instance collects at a time (an advisory lock per run); the others skip.
type BlobCollector struct {
	cfg    BlobCollectorConfig
	cursor string // the last key looked at; only Run's goroutine touches it

	// lockedFunc, set by tests, runs while a run holds its locks, after it has chosen
	// what to delete and before it deletes.
	lockedFunc func(keys []string)
}

// NewBlobCollector returns a collector; call Run to start it.
func NewBlobCollector(cfg BlobCollectorConfig) *BlobCollector {
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &BlobCollector{cfg: cfg}
}

// BlobCollection is what one run did.
type BlobCollection struct {
	// Listed is how many blobs the run looked at.
	Listed int
	// Deleted and Bytes count the blobs deleted and their size.
	Deleted int
	Bytes   int64
	// Errors counts blobs whose deletion failed (they are tried again next time round).
	Errors int
	// Skipped is true when another instance was collecting, and nothing was done.
	Skipped bool
	// Wrapped is true when the run reached the end of the store; the next starts over.
	Wrapped bool
}

// Run collects every Interval until ctx ends.
func (c *BlobCollector) Run(ctx context.Context) {
	t := time.NewTimer(c.jitter())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Collect(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Logger.Warn("blob collection failed", "err", err)
		}
		t.Reset(c.jitter())
	}
}

// jitter spreads instances' runs: Interval plus up to a tenth of it.
func (c *BlobCollector) jitter() time.Duration {
	return c.cfg.Interval + rand.N(c.cfg.Interval/10+1)
}

// Collect runs once: it looks at the next page of blobs and deletes those that qualify
// (see BlobCollector). It is not safe to call concurrently with itself or Run.
func (c *BlobCollector) Collect(ctx context.Context) (BlobCollection, error) {
	res, err := c.collect(ctx)
	if m := c.cfg.Metrics; m.DeletedFunc != nil && res.Deleted > 0 {
		m.DeletedFunc(res.Deleted, res.Bytes)
	}
	if errs := res.Errors; c.cfg.Metrics.ErrorsFunc != nil && (errs > 0 || err != nil) {
		if err != nil {
			errs++ // the run itself failed
		}
		c.cfg.Metrics.ErrorsFunc(errs)
	}
	if res.Deleted > 0 || res.Errors > 0 {
		c.cfg.Logger.Info("blobs collected", "deleted", res.Deleted, "bytes", res.Bytes, "errors", res.Errors, "looked_at", res.Listed)
	}
	return res, err
}

func (c *BlobCollector) collect(ctx context.Context) (BlobCollection, error) {
	var res BlobCollection
	page, err := c.cfg.Blobs.List(ctx, c.cursor, c.cfg.BatchSize)
	if err != nil {
		return res, fmt.Errorf("list blobs: %w", err)
	}
	res.Listed = len(page)
	next := ""
	if len(page) == c.cfg.BatchSize {
		next = page[len(page)-1].Key
	} else {
		res.Wrapped = true
	}
	cutoff := c.cfg.NowFunc().Add(-c.cfg.Grace)
	var keys []string
	sizes := map[string]int64{}
	for _, b := range page {
		if !b.ModTime.After(cutoff) {
			keys = append(keys, b.Key)
			sizes[b.Key] = b.Size
		}
	}
	err = c.cfg.Store.InTx(ctx, func(q db.Querier) error {
		leader, err := q.BlobTryCollectorLock(ctx, collectorLockKey)
		if err != nil {
			return fmt.Errorf("collector lock: %w", err)
		}
		if !leader {
			res.Skipped = true
			return nil
		}
		var doomed []string
		if len(keys) > 0 {
			if err := q.BlobLockMany(ctx, db.BlobLockManyParams{LockClass: blobLockClass, Keys: keys}); err != nil {
				return fmt.Errorf("lock blob keys: %w", err)
			}
			if doomed, err = q.BlobListUnreferenced(ctx, db.BlobListUnreferencedParams{Keys: keys, ClaimedAfter: cutoff}); err != nil {
				return fmt.Errorf("find unreferenced blobs: %w", err)
			}
		}
		if c.lockedFunc != nil {
			c.lockedFunc(doomed)
		}
		for _, key := range doomed {
			if err := c.cfg.Blobs.Delete(ctx, key); err != nil {
				if ctx.Err() != nil {
					return err
				}
				res.Errors++
				c.cfg.Logger.Warn("delete unreferenced blob", "key", key, "err", err)
				continue
			}
			res.Deleted++
			res.Bytes += sizes[key]
		}
		if _, err := q.BlobClaimPrune(ctx, db.BlobClaimPruneParams{ClaimedBefore: cutoff, RowLimit: int32(c.cfg.BatchSize)}); err != nil {
			return fmt.Errorf("prune blob claims: %w", err)
		}
		return nil
	})
	if err != nil {
		// The deletions done stay done: each was decided under its key's lock.
		return res, fmt.Errorf("collect blobs: %w", err)
	}
	if !res.Skipped {
		c.cursor = next
	}
	return res, nil
}

// claimBlob records, under the key's shared lock, that key is about to be stored and
// referenced (see BlobCollector).
func claimBlob(ctx context.Context, store db.Store, key string, at time.Time) error {
	err := store.InTx(ctx, func(q db.Querier) error {
		if err := q.BlobLockShared(ctx, db.BlobLockSharedParams{LockClass: blobLockClass, Key: key}); err != nil {
			return err
		}
		return q.BlobClaimUpsert(ctx, db.BlobClaimUpsertParams{Key: key, ClaimedAt: at})
	})
	if err != nil {
		return fmt.Errorf("claim blob: %w", err)
	}
	return nil
}
