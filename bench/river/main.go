// Command river runs the same job-queue benchmark as `packshot bench queue` against River
// (github.com/riverqueue/river), so the two can be compared on one machine and one
// PostgreSQL server; `packshot bench compare` runs both, interleaved, and prints the
// ratio. It lives in its own module so that packshot does not depend on River.
//
//	go run . -mode throughput -jobs 100000 -database-url postgres://…
//	go run . -mode latency -rate 200 -duration 10s -database-url postgres://…
//
// River runs tuned as its own benchmark (`river bench`) tunes it for throughput, not with
// its defaults (100 ms fetch cooldown, 1 s fetch poll interval): -fetch-cooldown 2ms and
// -fetch-poll-interval 20ms, and 1,000 workers, which is also packshot's bench's default
// (-workers). The flags change them.
//
// It creates a scratch database on the server, migrates River's schema into it, and
// drops it at the end. The last line of output is one JSON object of the same shape as
// packshot's, plus "queue":"river" and the settings it ran with.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	started func(id int64)
}

func (w *noopWorker) Work(ctx context.Context, job *river.Job[noopArgs]) error {
	if w.started != nil {
		w.started(job.ID)
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "river bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	mode := flag.String("mode", "throughput", "throughput or latency")
	jobs := flag.Int("jobs", 100000, "throughput: jobs to burn down")
	workers := flag.Int("workers", 1000, "jobs run at once (River's QueueConfig.MaxWorkers of the default queue)")
	cooldown := flag.Duration("fetch-cooldown", 2*time.Millisecond, "least time between fetches (River's Config.FetchCooldown; its default is 100ms)")
	poll := flag.Duration("fetch-poll-interval", 20*time.Millisecond, "time between fetches when no insert is announced (River's Config.FetchPollInterval; its default is 1s)")
	rate := flag.Int("rate", 200, "latency: jobs inserted per second")
	duration := flag.Duration("duration", 10*time.Second, "latency: how long to insert")
	dbURL := flag.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL server (its user needs CREATEDB)")
	flag.Parse()
	if *dbURL == "" {
		return errors.New("-database-url is required")
	}
	if *mode != "throughput" && *mode != "latency" {
		return errors.New("-mode must be throughput or latency")
	}
	if *jobs < 1 || *workers < 1 || *rate < 1 || *duration <= 0 {
		return errors.New("-jobs, -workers, -rate and -duration must be positive")
	}
	settings := settings{Workers: *workers, FetchCooldown: *cooldown, FetchPollInterval: *poll}
	pool, drop, err := scratch(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer drop()
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *mode == "throughput" {
		return throughput(ctx, pool, quiet, settings, *jobs)
	}
	return latency(ctx, pool, quiet, settings, *rate, *duration)
}

// settings are the River knobs the benchmark sets.
type settings struct {
	Workers           int
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
}

// throughputResult is the last line of a throughput run: packshot's fields, then which
// queue ran and with what settings.
type throughputResult struct {
	Bench      string  `json:"bench"`
	Mode       string  `json:"mode"`
	Jobs       int     `json:"jobs"`
	Seconds    float64 `json:"seconds"`
	JobsPerSec float64 `json:"jobs_per_sec"`
	resultSettings
}

// latencyResult is the last line of a latency run, laid out as throughputResult.
type latencyResult struct {
	Bench string  `json:"bench"`
	Mode  string  `json:"mode"`
	Rate  int     `json:"rate"`
	Jobs  int     `json:"jobs"`
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	resultSettings
}

// resultSettings names the queue and its settings in a result line.
type resultSettings struct {
	Queue               string  `json:"queue"`
	Workers             int     `json:"workers"`
	FetchCooldownMS     float64 `json:"fetch_cooldown_ms"`
	FetchPollIntervalMS float64 `json:"fetch_poll_interval_ms"`
}

func (s settings) result() resultSettings {
	return resultSettings{Queue: "river", Workers: s.Workers,
		FetchCooldownMS:     round3(float64(s.FetchCooldown) / float64(time.Millisecond)),
		FetchPollIntervalMS: round3(float64(s.FetchPollInterval) / float64(time.Millisecond))}
}

// scratch creates a database next to the one in u and returns a pool on it and the
// function that closes and drops it.
func scratch(ctx context.Context, u string) (*pgxpool.Pool, func(), error) {
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "river_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return nil, nil, fmt.Errorf("create scratch database (the user needs CREATEDB): %w", err)
	}
	dropDB := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(ctx)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		dropDB()
		return nil, nil, fmt.Errorf("parse database URL: %w", err)
	}
	parsed.Path = "/" + name
	cfg, err := pgxpool.ParseConfig(parsed.String())
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	cfg.MaxConns = 16 // as packshot's bench
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); dropDB() }, nil
}

func newClient(pool *pgxpool.Pool, logger *slog.Logger, s settings, w *noopWorker) (*river.Client[pgx.Tx], error) {
	ws := river.NewWorkers()
	river.AddWorker(ws, w)
	return river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:     s.FetchCooldown,
		FetchPollInterval: s.FetchPollInterval,
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.Workers}},
		Workers:           ws,
	})
}

func throughput(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, s settings, n int) error {
	client, err := newClient(pool, logger, s, &noopWorker{})
	if err != nil {
		return err
	}
	for i := 0; i < n; i += 10000 {
		ps := make([]river.InsertManyParams, 0, 10000)
		for j := i; j < min(i+10000, n); j++ {
			ps = append(ps, river.InsertManyParams{Args: noopArgs{}})
		}
		if _, err := client.InsertManyFast(ctx, ps); err != nil {
			return err
		}
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE river_job"); err != nil {
		return err
	}
	fmt.Printf("river bench: %d jobs inserted; burning down with %d workers, fetch cooldown %s, poll interval %s\n",
		n, s.Workers, s.FetchCooldown, s.FetchPollInterval)
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: n, Kinds: []river.EventKind{river.EventKindJobCompleted},
	})
	defer cancel()
	began := time.Now()
	if err := client.Start(ctx); err != nil {
		return err
	}
	for done := 0; done < n; {
		select {
		case <-events:
			done++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	elapsed := time.Since(began)
	stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	_ = client.Stop(stopCtx)
	return json.NewEncoder(os.Stdout).Encode(throughputResult{Bench: "queue", Mode: "throughput", Jobs: n,
		Seconds: round3(elapsed.Seconds()), JobsPerSec: round3(float64(n) / elapsed.Seconds()), resultSettings: s.result()})
}

func latency(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, s settings, rate int, duration time.Duration) error {
	var (
		mu        sync.Mutex
		inserted  = map[int64]time.Time{}
		started   = map[int64]time.Time{}
		startedN  atomic.Int64
		measuring atomic.Bool
	)
	w := &noopWorker{started: func(id int64) {
		now := time.Now()
		if !measuring.Load() {
			startedN.Add(1)
			return
		}
		mu.Lock()
		started[id] = now
		mu.Unlock()
		startedN.Add(1)
	}}
	client, err := newClient(pool, logger, s, w)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = client.Stop(stopCtx)
	}()
	for range 20 { // warm up
		if _, err := client.Insert(ctx, noopArgs{}, nil); err != nil {
			return err
		}
	}
	for startedN.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	measuring.Store(true)
	startedN.Store(0)
	total := int(float64(rate) * duration.Seconds())
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	t0 := time.Now()
	for i := range total {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Insert(ctx, noopArgs{}, nil)
			at := time.Now()
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			inserted[res.Job.ID] = at
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for startedN.Load() < int64(total) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	lat := make([]float64, 0, len(inserted))
	for id, at := range inserted {
		s, ok := started[id]
		if !ok {
			return fmt.Errorf("job %d never started", id)
		}
		lat = append(lat, max(s.Sub(at).Seconds()*1000, 0))
	}
	sort.Float64s(lat)
	pct := func(p float64) float64 { return round3(lat[min(int(p*float64(len(lat))), len(lat)-1)]) }
	return json.NewEncoder(os.Stdout).Encode(latencyResult{Bench: "queue", Mode: "latency", Rate: rate, Jobs: len(lat),
		P50MS: pct(0.5), P90MS: pct(0.9), P99MS: pct(0.99), MaxMS: round3(lat[len(lat)-1]), resultSettings: s.result()})
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
