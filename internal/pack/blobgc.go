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

// MaxBlobBatch is the largest BatchSize a BlobCollector accepts (PACKSHOT_BLOB_GC_BATCH):
// one storage listing page, one query over the page's keys.
const MaxBlobBatch = 1000

// How a run deletes and prunes: it locks and deletes at most blobDeleteChunk candidates
// per transaction, and prunes expired claims blobPruneChunk at a time, each in its own
// statement, for at most blobPruneBudget per run.
const (
	blobDeleteChunk = 100
	blobPruneChunk  = 1000
	blobPruneBudget = time.Minute
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
	// BatchSize is how many blobs one run looks at (and so at most deletes), at most
	// MaxBlobBatch. Defaults to MaxBlobBatch.
	BatchSize int
	// DeleteTimeout bounds each storage deletion; one that takes longer is counted as
	// an error and tried again on a later pass. Defaults to 30 s.
	DeleteTimeout time.Duration
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
//  1. the store says it was last modified at least Grace ago (a cheap first filter,
//     compared with the database's clock; it protects nothing in the argument below);
//  2. no row references its key;
//  3. no claim on its key is younger than Grace.
//
// A run first asks 1–3 of the whole page without any lock; the answer is only a list of
// candidates, usually few. It then takes, a chunk of candidates per transaction, the
// exclusive advisory lock of each candidate's key (never a referenced key's, so writers
// of live content never wait for a run), asks 2 and 3 again under the locks, deletes
// what still qualifies (each deletion bounded by DeleteTimeout), and commits.
//
// Why a concurrent writer of the same content cannot end with a row whose blob is gone
// (keys are content hashes, so a fresh upload of old bytes finds the old blob in place
// and does not rewrite it, its modification time stays old, and 1 protects nothing):
// every writer goes through ClaimingBlobs, which claims the key (BlobClaimUpsert, under
// the key's shared advisory lock, committed) before it stores the blob, and then commits
// its row. The collector decides 2 and 3 again and deletes the blob inside one
// transaction holding the key's exclusive advisory lock. The two lock holders are
// therefore ordered:
//
//   - Collector first: the blob is deleted before the claim commits, so before the
//     writer stores it; the writer's Put finds no blob and writes it again.
//   - Writer's claim first: the collector sees the claim, dated c, and goes on only if
//     now ≥ c + Grace. The writer commits its row before c + Grace (the condition on
//     Grace above), so before the collector's check runs, and 2 sees the row.
//
// Either way the row's blob exists. Both c and now are the database's clock (the claim's
// statement time, the checking transaction's start), so skew between application
// servers plays no part. What the argument needs of storage is that a deletion is over
// when Delete returns: a deletion that timed out is reported as an error, but a store
// that still carries out a request its client abandoned (S3 may) could do so after the
// key's lock is released; DeleteTimeout is therefore generous (seconds, not
// milliseconds) and the error is logged with its key. Claims older than Grace protect
// nothing and are pruned after each run, in short statements, until none is left.
//
// Only one instance deletes at a time (an advisory lock in each deleting transaction);
// a run that finds another instance deleting skips the rest of its page.
type BlobCollector struct {
	cfg    BlobCollectorConfig
	cursor string // the last key looked at; only Run's goroutine touches it

	// lockedFunc, set by tests, runs while a run holds a chunk's locks, after it has
	// chosen what to delete and before it deletes.
	lockedFunc func(keys []string)
	// now is the clock of the prune budget (not of any decision); tests replace it.
	now func() time.Time
}

// NewBlobCollector returns a collector; call Run to start it.
func NewBlobCollector(cfg BlobCollectorConfig) *BlobCollector {
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > MaxBlobBatch {
		cfg.BatchSize = MaxBlobBatch
	}
	if cfg.DeleteTimeout <= 0 {
		cfg.DeleteTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &BlobCollector{cfg: cfg, now: time.Now}
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
	keys := make([]string, len(page))
	modTimes := make([]time.Time, len(page))
	infos := make(map[string]storage.Info, len(page))
	for i, b := range page {
		keys[i], modTimes[i], infos[b.Key] = b.Key, b.ModTime, b
	}
	// Candidates, without locks: most keys are referenced, and their writers must never
	// wait for a run.
	var candidates []string
	if len(keys) > 0 {
		candidates, err = c.cfg.Store.BlobListUnreferenced(ctx, c.unreferenced(keys, modTimes))
		if err != nil {
			return res, fmt.Errorf("find unreferenced blobs: %w", err)
		}
	}
	for len(candidates) > 0 {
		chunk := candidates[:min(len(candidates), blobDeleteChunk)]
		candidates = candidates[len(chunk):]
		if err := c.deleteChunk(ctx, chunk, infos, &res); err != nil {
			// The deletions done stay done: each was decided under its key's lock.
			return res, fmt.Errorf("collect blobs: %w", err)
		}
		if res.Skipped {
			return res, nil
		}
	}
	if err := c.prune(ctx); err != nil {
		return res, err
	}
	c.cursor = next
	return res, nil
}

// unreferenced is the BlobListUnreferenced question about keys.
func (c *BlobCollector) unreferenced(keys []string, modTimes []time.Time) db.BlobListUnreferencedParams {
	return db.BlobListUnreferencedParams{Keys: keys, ModTimes: modTimes, GraceSeconds: c.cfg.Grace.Seconds()}
}

// deleteChunk locks candidates' keys, checks them again under the locks and deletes those
// that still qualify, in one transaction; it sets res.Skipped if another instance is
// deleting.
func (c *BlobCollector) deleteChunk(ctx context.Context, candidates []string, infos map[string]storage.Info, res *BlobCollection) error {
	return c.cfg.Store.InTx(ctx, func(q db.Querier) error {
		leader, err := q.BlobTryCollectorLock(ctx, collectorLockKey)
		if err != nil {
			return fmt.Errorf("collector lock: %w", err)
		}
		if !leader {
			res.Skipped = true
			return nil
		}
		if err := q.BlobLockMany(ctx, db.BlobLockManyParams{LockClass: blobLockClass, Keys: candidates}); err != nil {
			return fmt.Errorf("lock blob keys: %w", err)
		}
		modTimes := make([]time.Time, len(candidates))
		for i, k := range candidates {
			modTimes[i] = infos[k].ModTime
		}
		doomed, err := q.BlobListUnreferenced(ctx, c.unreferenced(candidates, modTimes))
		if err != nil {
			return fmt.Errorf("find unreferenced blobs: %w", err)
		}
		if c.lockedFunc != nil {
			c.lockedFunc(doomed)
		}
		for _, key := range doomed {
			if err := c.delete(ctx, key); err != nil {
				if ctx.Err() != nil {
					return err
				}
				res.Errors++
				c.cfg.Logger.Warn("delete unreferenced blob", "key", key, "err", err)
				continue
			}
			res.Deleted++
			res.Bytes += infos[key].Size
		}
		return nil
	})
}

// delete deletes one blob within DeleteTimeout.
func (c *BlobCollector) delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DeleteTimeout)
	defer cancel()
	return c.cfg.Blobs.Delete(ctx, key)
}

// prune deletes expired claims blobPruneChunk at a time, each chunk its own statement
// (its own short transaction), until none is left or blobPruneBudget has passed.
func (c *BlobCollector) prune(ctx context.Context) error {
	deadline := c.now().Add(blobPruneBudget)
	for {
		n, err := c.cfg.Store.BlobClaimPrune(ctx, db.BlobClaimPruneParams{GraceSeconds: c.cfg.Grace.Seconds(), RowLimit: blobPruneChunk})
		if err != nil {
			return fmt.Errorf("prune blob claims: %w", err)
		}
		if n < blobPruneChunk || !c.now().Before(deadline) {
			return nil
		}
	}
}

// claimBlob records, under the key's shared lock, that key is about to be stored and
// referenced (see BlobCollector). The database dates the claim.
func claimBlob(ctx context.Context, store db.Store, key string) error {
	err := store.InTx(ctx, func(q db.Querier) error {
		if err := q.BlobLockShared(ctx, db.BlobLockSharedParams{LockClass: blobLockClass, Key: key}); err != nil {
			return err
		}
		return q.BlobClaimUpsert(ctx, key)
	})
	if err != nil {
		return fmt.Errorf("claim blob: %w", err)
	}
	return nil
}
