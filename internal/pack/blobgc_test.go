package pack

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/storage"
)

const gcGrace = time.Hour

// gcBundle is a Service writing through ClaimingBlobs into a real store, and a collector
// on the same store and database. Time passes by ageing: advance moves every claim, and
// every stored blob's modification time as the collector sees it, into the past.
type gcBundle struct {
	db    *pgtest.DB
	store storage.Store
	aged  *agedStore // the store as the collector sees it
	svc   *Service
	blobs Blobs // what svc writes through
	gc    *BlobCollector
	// afterPut, when set, runs after a blob is stored and before the caller records it.
	afterPut atomic.Pointer[func(key string)]
}

// agedStore reports each blob's modification time moved back by how much the test has
// aged it; it stands for the storage's clock having moved on.
type agedStore struct {
	storage.Store
	mu  sync.Mutex
	age map[string]time.Duration
}

func (a *agedStore) List(ctx context.Context, after string, limit int) ([]storage.Info, error) {
	page, err := a.Store.List(ctx, after, limit)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range page {
		page[i].ModTime = page[i].ModTime.Add(-a.age[page[i].Key])
	}
	return page, err
}

// pausingBlobs calls the bundle's afterPut hook once a Put has returned.
type pausingBlobs struct {
	Blobs
	b *gcBundle
}

func (p pausingBlobs) Put(ctx context.Context, data []byte, contentType string) (string, error) {
	key, err := p.Blobs.Put(ctx, data, contentType)
	if f := p.b.afterPut.Load(); f != nil && err == nil {
		(*f)(key)
	}
	return key, err
}

func setupGC(t *testing.T, newStore func(t *testing.T) storage.Store) *gcBundle {
	t.Helper()
	b := &gcBundle{db: pgtest.New(t), store: newStore(t)}
	b.aged = &agedStore{Store: b.store, age: map[string]time.Duration{}}
	signer, err := storage.NewSigner("blob-collector-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	b.blobs = pausingBlobs{ClaimingBlobs(StorageBlobs(b.store, signer, time.Hour), b.db.Store), b}
	// Enqueues only; the test runs no job.
	jobs := queue.NewClient(b.db.Store, queue.Config{Notifier: notifiertest.New(t, b.db.Pool, notifier.Config{})})
	t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
	b.svc = New(Config{Store: b.db.Store, Blobs: b.blobs, Enqueuer: jobs, Watchers: NewWatchers(Silent{}),
		Logger: slog.New(slog.DiscardHandler), PackURLFunc: func(uuid.UUID) string { return "" },
		ProfileFunc: func(m string) (imaging.Profile, error) {
			p, err := imaging.ProfileFor(m)
			p.Width, p.Height, p.MinLongestSide, p.RecommendedLongestSide, p.MinSourceSide = 64, 64, 32, 64, 32
			return p, err
		}})
	b.gc = NewBlobCollector(BlobCollectorConfig{Store: b.db.Store, Blobs: b.aged, Grace: gcGrace, BatchSize: 100})
	return b
}

// advance lets d pass for everything stored and claimed so far: claims are dated d
// earlier in the database, and the blobs' modification times d earlier.
func (b *gcBundle) advance(t *testing.T, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.db.Pool.Exec(ctx, `UPDATE blob_claims SET claimed_at = claimed_at - make_interval(secs => $1)`, d.Seconds()); err != nil {
		t.Fatal(err)
	}
	all, err := b.store.List(ctx, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	b.aged.mu.Lock()
	defer b.aged.mu.Unlock()
	for _, info := range all {
		b.aged.age[info.Key] += d
	}
}

// project creates a project for user and uploads photo to it.
func (b *gcBundle) project(t *testing.T, user string, photo []byte) Snapshot {
	t.Helper()
	ctx := context.Background()
	c := Caller{UserID: user}
	snap, err := b.svc.Create(ctx, c, CreateInput{Name: "bottle"})
	if err != nil {
		t.Fatal(err)
	}
	if snap, err = b.svc.Upload(ctx, c, snap.ID.String(), photo); err != nil {
		t.Fatal(err)
	}
	return snap
}

// derived records a cut-out and a generated image for the project, stored through the
// service's blobs as the job handlers do, and returns their keys.
func (b *gcBundle) derived(t *testing.T, snap Snapshot, seed byte) (cutout, generated string) {
	t.Helper()
	ctx := context.Background()
	cutout, err := b.blobs.Put(ctx, []byte{0x89, 'P', 'N', 'G', seed, 1}, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	generated, err = b.blobs.Put(ctx, []byte{0x89, 'P', 'N', 'G', seed, 2}, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	src, err := b.db.Store.SourceImageGet(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Store.SourceImageSetCutout(ctx, db.SourceImageSetCutoutParams{ProjectID: snap.ID, StorageKey: src.StorageKey, CutoutKey: cutout, CutoutProvider: "local"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Store.GeneratedImageInsert(ctx, db.GeneratedImageInsertParams{
		ProjectID: snap.ID, UserID: snap.UserID, Type: TypeMain, StorageKey: generated, Width: 64, Height: 64,
		Bytes: 6, Mime: "image/png", Provider: "local", Compliance: []byte(`{"ok": true, "violations": []}`),
	}); err != nil {
		t.Fatal(err)
	}
	return cutout, generated
}

func (b *gcBundle) photoKey(t *testing.T, projectID Snapshot) string {
	t.Helper()
	src, err := b.db.Store.SourceImageGet(context.Background(), projectID.ID)
	if err != nil {
		t.Fatal(err)
	}
	return src.StorageKey
}

func (b *gcBundle) collect(t *testing.T) BlobCollection {
	t.Helper()
	res, err := b.gc.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// exists reports whether key is in the store.
func (b *gcBundle) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := b.store.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// gcPhoto is a small JPEG whose bytes depend on seed.
func gcPhoto(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.SetRGBA(x, y, color.RGBA{seed, uint8(x * 4), uint8(y * 4), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gcFS(t *testing.T) storage.Store {
	s, err := storage.NewFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func gcS3(t *testing.T) storage.Store {
	backend := s3mem.New()
	if err := backend.CreateBucket("blobs"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	s, err := storage.NewS3(storage.S3Options{Endpoint: srv.URL, Bucket: "blobs", Prefix: "production", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBlobCollectorFS(t *testing.T) {
	t.Parallel()
	testBlobCollector(t, gcFS)
}

func TestBlobCollectorS3(t *testing.T) {
	t.Parallel()
	testBlobCollector(t, gcS3)
}

func testBlobCollector(t *testing.T, newStore func(t *testing.T) storage.Store) {
	ctx := context.Background()

	t.Run("a deleted project's blobs are gone after the grace", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		gone := b.project(t, "ann", gcPhoto(t, 1))
		kept := b.project(t, "ann", gcPhoto(t, 2))
		goneKeys := []string{b.photoKey(t, gone)}
		c, g := b.derived(t, gone, 1)
		goneKeys = append(goneKeys, c, g)
		c, g = b.derived(t, kept, 2)
		keptKeys := []string{b.photoKey(t, kept), c, g}
		if err := b.svc.Delete(ctx, Caller{UserID: "ann"}, gone.ID.String()); err != nil {
			t.Fatal(err)
		}
		var metricBlobs int
		var metricBytes int64
		b.gc.cfg.Metrics.DeletedFunc = func(n int, bytes int64) { metricBlobs += n; metricBytes += bytes }

		if res := b.collect(t); res.Deleted != 0 {
			t.Fatalf("inside the grace, a run deleted %d blobs", res.Deleted)
		}
		b.advance(t, gcGrace+time.Minute)
		res := b.collect(t)
		if res.Deleted != 3 || res.Errors != 0 || res.Bytes <= 0 {
			t.Fatalf("run %+v; want the deleted project's 3 blobs", res)
		}
		if metricBlobs != 3 || metricBytes != res.Bytes {
			t.Errorf("metrics counted %d blobs, %d bytes; want 3, %d", metricBlobs, metricBytes, res.Bytes)
		}
		for _, k := range goneKeys {
			if b.exists(t, k) {
				t.Errorf("blob %s of the deleted project is still stored", k)
			}
		}
		for _, k := range keptKeys {
			if !b.exists(t, k) {
				t.Errorf("blob %s of the remaining project was deleted", k)
			}
		}
		if _, err := b.svc.Get(ctx, Caller{UserID: "ann"}, kept.ID.String()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("content another project references survives", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		photo := gcPhoto(t, 3)
		first := b.project(t, "ann", photo)
		second := b.project(t, "bob", photo)
		key := b.photoKey(t, first)
		if err := b.svc.Delete(ctx, Caller{UserID: "ann"}, first.ID.String()); err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace+time.Minute)
		if res := b.collect(t); res.Deleted != 0 || !b.exists(t, key) {
			t.Fatalf("run %+v deleted the photo bob's project still shows", res)
		}
		if err := b.svc.Delete(ctx, Caller{UserID: "bob"}, second.ID.String()); err != nil {
			t.Fatal(err)
		}
		if res := b.collect(t); res.Deleted != 1 || b.exists(t, key) {
			t.Fatalf("run %+v after the last reference went; want the photo deleted", res)
		}
	})

	t.Run("a blob just stored and not yet recorded survives the grace", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		claimed, err := b.blobs.Put(ctx, []byte("an upload on its way"), "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace/2)
		if res := b.collect(t); res.Deleted != 0 || !b.exists(t, claimed) {
			t.Fatalf("run %+v deleted a blob stored half a grace ago", res)
		}
		b.advance(t, gcGrace)
		if res := b.collect(t); res.Deleted != 1 || b.exists(t, claimed) {
			t.Fatalf("run %+v; want the blob nobody recorded deleted once the grace passed", res)
		}
	})

	t.Run("runs are bounded and walk the whole store", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		b.gc.cfg.BatchSize = 2
		for i := range 5 {
			if _, err := b.store.Put(ctx, bytes.NewReader([]byte{byte(i)}), "image/png"); err != nil {
				t.Fatal(err)
			}
		}
		b.advance(t, gcGrace+time.Minute)
		var deleted []int
		for range 3 {
			res := b.collect(t)
			deleted = append(deleted, res.Deleted)
		}
		if deleted[0] != 2 || deleted[1] != 2 || deleted[2] != 1 {
			t.Fatalf("runs deleted %v; want [2 2 1]", deleted)
		}
		if left, err := b.store.List(ctx, "", 10); err != nil || len(left) != 0 {
			t.Fatalf("%d blobs left (%v)", len(left), err)
		}
	})

	t.Run("one instance collects at a time", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		other := NewBlobCollector(b.gc.cfg)
		if _, err := b.store.Put(ctx, bytes.NewReader([]byte("orphan")), "image/png"); err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace+time.Minute)
		var res, otherRes BlobCollection
		var otherErr error
		b.gc.lockedFunc = func([]string) { otherRes, otherErr = other.Collect(ctx) }
		res = b.collect(t)
		if otherErr != nil || !otherRes.Skipped || otherRes.Deleted != 0 {
			t.Errorf("a second instance's run during the first: %+v, %v; want it skipped", otherRes, otherErr)
		}
		if res.Skipped || res.Deleted != 1 {
			t.Errorf("the first instance's run: %+v; want the orphan deleted", res)
		}
	})

	t.Run("a run locks only the blobs it deletes", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		photo := gcPhoto(t, 5)
		kept := b.project(t, "ann", photo)
		cutout, generated := b.derived(t, kept, 5)
		orphan, err := b.store.Put(ctx, bytes.NewReader([]byte("orphan")), "image/png")
		if err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace+time.Minute)
		var locked int
		var reuploadErr error
		b.gc.lockedFunc = func([]string) {
			err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
				WHERE locktype = 'advisory' AND classid::bigint = $1::bigint AND mode = 'ExclusiveLock' AND granted
				  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
				blobLockClass).Scan(&locked)
			if err != nil {
				t.Error(err)
			}
			// Another user uploads the same photo while the run holds its locks: the
			// photo is referenced, so its writer must not wait for the run. (A bound,
			// not a timing: on failure this would wait for the run forever.)
			upCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, reuploadErr = b.blobs.Put(upCtx, photo, "image/jpeg")
		}
		res := b.collect(t)
		if locked != 1 {
			t.Errorf("the run held %d blob locks while deleting; want 1, the orphan's (referenced: %s, %s, %s)", locked, b.photoKey(t, kept), cutout, generated)
		}
		if reuploadErr != nil {
			t.Errorf("an upload of referenced content during the run: %v", reuploadErr)
		}
		if res.Deleted != 1 || b.exists(t, orphan) {
			t.Errorf("run %+v; want the orphan deleted", res)
		}
	})

	t.Run("a deletion that hangs is cut short", func(t *testing.T) {
		t.Parallel()
		b := setupGC(t, newStore)
		stuck, err := b.store.Put(ctx, bytes.NewReader([]byte("stuck")), "image/png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.Put(ctx, bytes.NewReader([]byte("orphan")), "image/png"); err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace+time.Minute)
		hanging := &hangingStore{agedStore: b.aged, key: stuck}
		b.gc.cfg.Blobs = hanging
		b.gc.cfg.DeleteTimeout = 10 * time.Millisecond
		// The run's own context is only a bound for the failure case.
		runCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		res, err := b.gc.Collect(runCtx)
		if err != nil {
			t.Fatalf("the run failed: %v; want the stuck deletion counted and the run finished", err)
		}
		if res.Errors != 1 || res.Deleted != 1 || !hanging.hadDeadline.Load() {
			t.Errorf("run %+v (deadline given: %v); want 1 deleted, 1 error, a deadline on the stuck deletion", res, hanging.hadDeadline.Load())
		}
		if !b.exists(t, stuck) {
			t.Error("the stuck blob is gone")
		}
	})

	// The races: an upload of content whose blob is an old orphan, interleaved with a
	// run at each of the two points where it could go wrong. Either way the upload must
	// end with a row whose blob is there.
	race := func(t *testing.T) (*gcBundle, []byte, string) {
		b := setupGC(t, newStore)
		photo := gcPhoto(t, 4)
		old := b.project(t, "ann", photo)
		key := b.photoKey(t, old)
		if err := b.svc.Delete(ctx, Caller{UserID: "ann"}, old.ID.String()); err != nil {
			t.Fatal(err)
		}
		b.advance(t, gcGrace+time.Minute)
		return b, photo, key
	}

	t.Run("race: upload stored, not yet recorded, while a run decides", func(t *testing.T) {
		t.Parallel()
		b, photo, key := race(t)
		stored, release := make(chan struct{}), make(chan struct{})
		releaseOnce := sync.OnceFunc(func() { close(release) })
		t.Cleanup(releaseOnce) // on failure too, before the pool closes
		hook := func(k string) {
			if k == key {
				close(stored)
				<-release
			}
		}
		b.afterPut.Store(&hook)
		defer b.afterPut.Store(nil)
		var snap Snapshot
		var upErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			c := Caller{UserID: "bob"}
			if snap, upErr = b.svc.Create(ctx, c, CreateInput{Name: "again"}); upErr == nil {
				snap, upErr = b.svc.Upload(ctx, c, snap.ID.String(), photo)
			}
		})
		<-stored // the old blob is in place (Put found it), no row references it yet
		res, err := b.gc.Collect(ctx)
		releaseOnce()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if upErr != nil {
			t.Fatal(upErr)
		}
		if res.Deleted != 0 {
			t.Errorf("the run deleted %d blobs while an upload of their content was on its way", res.Deleted)
		}
		if b.photoKey(t, snap) != key || !b.exists(t, key) {
			t.Fatal("the upload ended with a row whose blob is gone")
		}
	})

	t.Run("race: upload claims while a run holds the key", func(t *testing.T) {
		t.Parallel()
		b, photo, key := race(t)
		locked, release := make(chan struct{}), make(chan struct{})
		releaseOnce := sync.OnceFunc(func() { close(release) })
		t.Cleanup(releaseOnce) // on failure too, before the pool closes
		b.gc.lockedFunc = func(doomed []string) {
			if len(doomed) == 1 && doomed[0] == key {
				close(locked)
				<-release
			}
		}
		var res BlobCollection
		var gcErr error
		var gcDone sync.WaitGroup
		gcDone.Go(func() { res, gcErr = b.gc.Collect(ctx) })
		<-locked // the run has decided to delete the blob and holds its key

		var snap Snapshot
		var upErr error
		upDone := make(chan struct{})
		go func() {
			defer close(upDone)
			c := Caller{UserID: "bob"}
			if snap, upErr = b.svc.Create(ctx, c, CreateInput{Name: "again"}); upErr == nil {
				snap, upErr = b.svc.Upload(ctx, c, snap.ID.String(), photo)
			}
		}()
		waitForBlockedClaim(t, b, upDone)
		releaseOnce()
		gcDone.Wait()
		<-upDone
		if gcErr != nil || upErr != nil {
			t.Fatal(gcErr, upErr)
		}
		if res.Deleted != 1 {
			t.Errorf("run %+v; want the orphan deleted before the upload claimed it", res)
		}
		if b.photoKey(t, snap) != key || !b.exists(t, key) {
			t.Fatal("the upload ended with a row whose blob is gone")
		}
	})
}

// hangingStore is a store whose deletion of key never finishes by itself: it waits until
// its context ends.
type hangingStore struct {
	*agedStore
	key         string
	hadDeadline atomic.Bool
}

func (h *hangingStore) Delete(ctx context.Context, key string) error {
	if key != h.key {
		return h.agedStore.Delete(ctx, key)
	}
	_, ok := ctx.Deadline()
	h.hadDeadline.Store(ok)
	<-ctx.Done()
	return ctx.Err()
}

func TestBlobCollectorCapsTheBatch(t *testing.T) {
	t.Parallel()
	gc := NewBlobCollector(BlobCollectorConfig{BatchSize: 1_000_000})
	if gc.cfg.BatchSize != MaxBlobBatch {
		t.Fatalf("BatchSize %d; want it capped at %d", gc.cfg.BatchSize, MaxBlobBatch)
	}
}

// TestBlobClaimsUseTheDatabaseClock: a claim is dated by the database when it is made,
// whatever the writing server's clock says, so skew between servers cannot shorten the
// grace.
func TestBlobClaimsUseTheDatabaseClock(t *testing.T) {
	t.Parallel()
	b := setupGC(t, gcFS)
	ctx := context.Background()
	dbNow := func() time.Time {
		var now time.Time
		if err := b.db.Pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now
	}
	before := dbNow()
	key, err := b.blobs.Put(ctx, []byte("an upload on its way"), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	after := dbNow()
	var claimed time.Time
	if err := b.db.Pool.QueryRow(ctx, `SELECT claimed_at FROM blob_claims WHERE key = $1`, key).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	if claimed.Before(before) || claimed.After(after) {
		t.Fatalf("claim dated %v; want the database's time of the claim, between %v and %v", claimed, before, after)
	}
	// A grace less a minute later (by the database), the blob is still protected; a
	// minute after the grace, it is collected.
	b.advance(t, gcGrace-time.Minute)
	if res := b.collect(t); res.Deleted != 0 || !b.exists(t, key) {
		t.Fatalf("run %+v deleted a blob claimed less than a grace ago", res)
	}
	b.advance(t, 2*time.Minute)
	if res := b.collect(t); res.Deleted != 1 {
		t.Fatalf("run %+v; want the unrecorded blob deleted after the grace", res)
	}
}

// TestBlobCollectorPrunesEveryExpiredClaim: claims pile up faster than one batch a run
// when writes are frequent; a run prunes all expired ones, in chunks, within its budget.
func TestBlobCollectorPrunesEveryExpiredClaim(t *testing.T) {
	t.Parallel()
	b := setupGC(t, gcFS)
	ctx := context.Background()
	claims := func() int {
		var n int
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM blob_claims`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(n int, age time.Duration) {
		_, err := b.db.Pool.Exec(ctx, `INSERT INTO blob_claims (key, claimed_at)
			SELECT md5(random()::text || i::text) || md5(i::text) || '.png', now() - make_interval(secs => $2)
			FROM generate_series(1, $1) AS i`, n, age.Seconds())
		if err != nil {
			t.Fatal(err)
		}
	}
	insert(2*blobPruneChunk+500, 2*gcGrace) // expired
	insert(7, gcGrace/2)                    // still protecting uploads
	b.collect(t)
	if n := claims(); n != 7 {
		t.Fatalf("%d claims left after a run; want only the 7 unexpired", n)
	}

	// The prune is bounded by time: with the budget spent after the first chunk, the
	// run stops there and the next one carries on.
	insert(2*blobPruneChunk+500, 2*gcGrace)
	calls := 0
	start := time.Now()
	b.gc.now = func() time.Time {
		calls++
		if calls > 1 {
			return start.Add(blobPruneBudget)
		}
		return start
	}
	b.collect(t)
	if n := claims(); n != 7+blobPruneChunk+500 {
		t.Fatalf("%d claims left after a run out of budget; want %d", n, 7+blobPruneChunk+500)
	}
}

// waitForBlockedClaim returns once a writer waits for a blob key's advisory lock, or once
// the upload is done (it did not wait: the assertions that follow tell).
func waitForBlockedClaim(t *testing.T, b *gcBundle, upDone <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		var waiting int
		err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND classid::bigint = $1::bigint AND NOT granted
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			blobLockClass).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		select {
		case <-upDone:
			return
		case <-ctx.Done():
			t.Fatal("the upload neither finished nor waited for the run's lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
