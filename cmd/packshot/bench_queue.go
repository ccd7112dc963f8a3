package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/app"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/queue"
)

// benchQueueThroughput is the last line of `bench queue -mode throughput`.
type benchQueueThroughput struct {
	Bench      string  `json:"bench"`
	Mode       string  `json:"mode"`
	Jobs       int     `json:"jobs"`
	Seconds    float64 `json:"seconds"`
	JobsPerSec float64 `json:"jobs_per_sec"`
}

// benchQueueLatency is the last line of `bench queue -mode latency`.
type benchQueueLatency struct {
	Bench string  `json:"bench"`
	Mode  string  `json:"mode"`
	Rate  int     `json:"rate"`
	Jobs  int     `json:"jobs"`
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// cmdBenchQueue measures the job queue with no-op jobs on a scratch database that it
// creates on the server and drops at the end. Throughput: bulk-enqueue -jobs, start the
// dispatcher, stop when every job is completed. Latency: enqueue one job at a time
// through Enqueue at -rate per second for -duration, and time each from its commit to
// its handler's start. The queue runs with its default settings but -workers.
func cmdBenchQueue(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench queue")
	mode := fs.String("mode", "throughput", "throughput or latency")
	jobs := fs.Int("jobs", 100000, "throughput: jobs to burn down")
	workers := fs.Int("workers", 1000, "jobs run at once (queue.Config.MaxWorkers)")
	rate := fs.Int("rate", 200, "latency: jobs enqueued per second")
	duration := fs.Duration("duration", 10*time.Second, "latency: how long to enqueue")
	dbURL := fs.String("database-url", "", "PostgreSQL server to use (default: DATABASE_URL, else the embedded cluster)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "throughput" && *mode != "latency" {
		return fmt.Errorf("bench queue: -mode must be throughput or latency")
	}
	if *jobs < 1 || *workers < 1 || *rate < 1 || *duration <= 0 {
		return errors.New("bench queue: -jobs, -workers, -rate and -duration must be positive")
	}
	_, _, d, err := openBenchDatabase(ctx, e, *dbURL, false)
	if err != nil {
		return err
	}
	defer d.Close()
	scratch, drop, err := scratchDatabase(ctx, d, 16)
	if err != nil {
		return err
	}
	defer drop()
	fmt.Fprintf(e.stdout, "bench queue: scratch database ready, %d workers\n", *workers)

	qcfg := queue.Config{MaxWorkers: *workers, Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	nt := notifier.New(scratch.Pool(), notifier.Config{Logger: qcfg.Logger})
	if err := nt.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = nt.Stop(context.Background()) }()
	qcfg.Notifier = nt
	if *mode == "throughput" {
		return benchThroughput(ctx, e.stdout, scratch, qcfg, *jobs)
	}
	return benchLatency(ctx, e.stdout, scratch, qcfg, *rate, *duration)
}

// scratchDatabase creates a migrated database next to d's and returns a store on it (a
// pool of at most maxConns connections) and the function that closes and drops it.
func scratchDatabase(ctx context.Context, d *app.Database, maxConns int32) (*db.PoolStore, func(), error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "packshot_bench_" + hex.EncodeToString(b[:])
	// CREATE/DROP DATABASE take identifiers, which sqlc cannot express; name is ours.
	if _, err := d.Pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, nil, fmt.Errorf("create scratch database (the user needs CREATEDB): %w", err)
	}
	dropDB := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = d.Pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		dropDB()
		return nil, nil, fmt.Errorf("parse database URL: %w", err)
	}
	u.Path = "/" + name
	pcfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	pcfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		dropDB()
		return nil, nil, fmt.Errorf("open scratch database: %w", err)
	}
	drop := func() { pool.Close(); dropDB() }
	m, err := db.NewMigrator(pool)
	if err != nil {
		drop()
		return nil, nil, err
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db.NewStore(pool), drop, nil
}

// noopArgs are the args of the bench's job, which does nothing.
type noopArgs struct{}

// Kind returns "noop".
func (noopArgs) Kind() string { return "noop" }

func benchThroughput(ctx context.Context, out io.Writer, store *db.PoolStore, qcfg queue.Config, n int) error {
	var done atomic.Int64
	all := make(chan struct{})
	qcfg.Metrics.JobFinishedFunc = func(kind, outcome string, _ time.Duration) {
		if done.Add(1) == int64(n) {
			close(all)
		}
	}
	qcfg.Workers = queue.NewWorkers()
	queue.AddWorker(qcfg.Workers, queue.WorkFunc[noopArgs](func(context.Context, *queue.Job, noopArgs) error { return nil }), queue.HandlerOptions{})
	c := queue.NewClient(store, qcfg)
	const chunk = 10000
	ps := make([]queue.EnqueueParams, 0, chunk)
	for i := 0; i < n; i += chunk {
		ps = ps[:0]
		for j := i; j < min(i+chunk, n); j++ {
			ps = append(ps, queue.EnqueueParams{Args: noopArgs{}})
		}
		if _, err := c.EnqueueMany(ctx, ps); err != nil {
			return err
		}
	}
	if _, err := store.Pool().Exec(ctx, "VACUUM ANALYZE job_queue"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Fprintf(out, "bench queue: %d jobs enqueued; burning down\n", n)
	began := time.Now()
	if err := c.Start(ctx); err != nil {
		return err
	}
	var err error
	select {
	case <-all:
	case <-ctx.Done():
		err = ctx.Err()
	}
	elapsed := time.Since(began)
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if stopErr := c.Stop(stopCtx); err == nil {
		err = stopErr
	}
	if err != nil {
		return err
	}
	res := benchQueueThroughput{Bench: "queue", Mode: "throughput", Jobs: n, Seconds: round3(elapsed.Seconds()),
		JobsPerSec: round3(float64(n) / elapsed.Seconds())}
	return json.NewEncoder(out).Encode(res)
}

func benchLatency(ctx context.Context, out io.Writer, store *db.PoolStore, qcfg queue.Config, rate int, duration time.Duration) error {
	rec := &latencyRecorder{committed: map[uuid.UUID]time.Time{}, started: map[uuid.UUID]time.Time{}}
	qcfg.Metrics.JobFinishedFunc = func(string, string, time.Duration) { rec.finished.Add(1) }
	qcfg.Workers = queue.NewWorkers()
	queue.AddWorker(qcfg.Workers, queue.WorkFunc[noopArgs](rec.work), queue.HandlerOptions{})
	c := queue.NewClient(store, qcfg)
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(stopCtx)
	}()
	// Warm the pool's connections and the dispatcher's path before measuring.
	for range 20 {
		if _, err := c.Enqueue(ctx, queue.EnqueueParams{Args: noopArgs{}}); err != nil {
			return err
		}
	}
	for rec.finished.Load() < 20 {
		time.Sleep(time.Millisecond) // measuring, not synchronising a test
	}
	fmt.Fprintf(out, "bench queue: enqueueing %d jobs/s for %s\n", rate, duration)
	rec.finished.Store(0)
	total := int(float64(rate) * duration.Seconds())
	if err := rec.enqueueAtRate(ctx, c, rate, total); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for rec.finished.Load() < int64(total) {
		if time.Now().After(deadline) {
			return fmt.Errorf("bench queue: only %d of %d jobs finished", rec.finished.Load(), total)
		}
		time.Sleep(10 * time.Millisecond) // measuring, not synchronising a test
	}
	lat, err := rec.latencies()
	if err != nil {
		return err
	}
	pct := func(p float64) float64 { return round3(lat[min(int(p*float64(len(lat))), len(lat)-1)]) }
	res := benchQueueLatency{Bench: "queue", Mode: "latency", Rate: rate, Jobs: len(lat),
		P50MS: pct(0.50), P90MS: pct(0.90), P99MS: pct(0.99), MaxMS: round3(lat[len(lat)-1])}
	return json.NewEncoder(out).Encode(res)
}

// latencyRecorder keeps when each job of the latency benchmark committed and started.
type latencyRecorder struct {
	finished atomic.Int64

	mu        sync.Mutex
	committed map[uuid.UUID]time.Time
	started   map[uuid.UUID]time.Time
}

// work is the benchmark's worker: it notes when the job started.
func (r *latencyRecorder) work(_ context.Context, j *queue.Job, _ noopArgs) error {
	now := time.Now()
	r.mu.Lock()
	r.started[j.ID] = now
	r.mu.Unlock()
	return nil
}

// enqueueAtRate enqueues total jobs, rate a second, each from its own goroutine (so a
// slow commit does not delay the next one), and notes when each committed.
func (r *latencyRecorder) enqueueAtRate(ctx context.Context, c *queue.Client, rate, total int) error {
	interval := time.Second / time.Duration(rate)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range total {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		wg.Go(func() {
			j, err := c.Enqueue(ctx, queue.EnqueueParams{Args: noopArgs{}, UserID: "bench"})
			at := time.Now()
			if err != nil {
				errs <- err
				return
			}
			r.mu.Lock()
			r.committed[j.ID] = at
			r.mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// latencies returns each job's commit-to-start time in milliseconds, sorted.
func (r *latencyRecorder) latencies() ([]float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := make([]float64, 0, len(r.committed))
	for id, at := range r.committed {
		s, ok := r.started[id]
		if !ok {
			return nil, fmt.Errorf("bench queue: job %s never started", id)
		}
		lat = append(lat, max(s.Sub(at).Seconds()*1000, 0))
	}
	sort.Float64s(lat)
	return lat, nil
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
