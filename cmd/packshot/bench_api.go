package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/app"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/storage"
)

// benchTypes are the image types a bench project can always have enqueued: every bench
// project has features and dimensions, so none is refused for missing data.
var benchTypes = []string{"main", "lifestyle", "infographic", "dimensions", "detail"}

// cmdBenchAPI loads image.generate over HTTP: C connections, each request with a new
// idempotency key, for D. It measures the real enqueue path (authentication, validation,
// one transaction that locks the project, records the key, inserts the job and bumps the
// version) against a server started in this process on a scratch database, with no
// dispatcher running, so that every request enqueues a new job rather than rendering
// images. Each request names a (project, type) pair not used before, so no request is
// answered from an unfinished job of the same image.
func cmdBenchAPI(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench api")
	conns := fs.Int("c", 64, "concurrent HTTP connections")
	duration := fs.Duration("duration", 10*time.Second, "how long to send requests")
	projects := fs.Int("projects", 20000, "bench projects (each takes 5 enqueues; raise it for long runs)")
	dbURL := fs.String("database-url", "", "PostgreSQL server to use (default: DATABASE_URL, else the embedded cluster)")
	dbConns := fs.Int("db-conns", 16, "database connections of the server's pool (more than the cores' worth only adds contention)")
	cpuProfile := fs.String("cpuprofile", "", "write the measured phase's CPU profile (server and load together) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conns < 1 || *duration <= 0 || *projects < 1 {
		return errors.New("bench api: -c, -duration and -projects must be positive")
	}
	cfg, logger, d, err := openBenchDatabase(ctx, e, *dbURL, false)
	if err != nil {
		return err
	}
	defer d.Close()
	scratch, drop, err := scratchDatabase(ctx, d, int32(max(1, *dbConns)))
	if err != nil {
		return err
	}
	defer drop()
	a, err := startBenchAPIServer(ctx, cfg, logger, app.UseDatabase(d.URL, scratch, logger))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Stop(sctx) // flush its doorbells before the pool closes
		os.RemoveAll(a.Config.DataDir)
	}()
	base := "http://" + a.HTTP.Addr()

	fmt.Fprintf(e.stdout, "bench api: creating %d projects\n", *projects)
	targets, tokens, err := benchAPIProjects(ctx, scratch, a.Config.JWTSecret, *projects, *conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bench api: %d connections for %s against %s\n", *conns, *duration, base)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	load := benchAPILoad{base: base, targets: targets, tokens: tokens, superjson: a.Config.TRPCTransformer != "json"}
	res := load.run(ctx, *conns, *duration)
	if res.ranOut {
		fmt.Fprintf(e.stdout, "bench api: ran out of projects after %s; raise -projects\n", res.elapsed.Round(time.Millisecond))
	}
	if res.firstErr != "" {
		fmt.Fprintf(e.stdout, "bench api: first error: %s\n", res.firstErr)
	}
	all := res.latencies
	out, _ := json.Marshal(map[string]any{
		"bench": "api", "connections": *conns, "requests": len(all) + int(res.errors),
		"rps":    round3(float64(len(all)) / res.elapsed.Seconds()),
		"p50_ms": round3(percentile(all, 0.50)), "p90_ms": round3(percentile(all, 0.90)),
		"p99_ms": round3(percentile(all, 0.99)), "max_ms": round3(percentile(all, 1)),
		"errors": res.errors,
	})
	fmt.Fprintln(e.stdout, string(out))
	return nil
}

// startBenchAPIServer starts the API as `serve -no-worker` builds it, on a loopback port
// over d, without the per-user limits (a load test would only measure the rate limiter)
// and with its files in a temporary directory.
func startBenchAPIServer(ctx context.Context, cfg config.Config, logger *slog.Logger, d *app.Database) (*app.App, error) {
	dataDir, err := os.MkdirTemp("", "packshot-bench-api-")
	if err != nil {
		return nil, err
	}
	cfg.Addr, cfg.DataDir, cfg.Storage, cfg.JWTSecret = "127.0.0.1:0", dataDir, "fs", uuid.NewString()
	cfg.RateLimitPerMinute, cfg.MaxPacksInFlight = 0, 0
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: logger, Database: d, API: true})
	if err == nil {
		err = a.Start(ctx)
	}
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	return a, nil
}

// benchAPILoad sends image.generate requests, each for a target not used before, with a
// new idempotency key.
type benchAPILoad struct {
	base      string
	targets   []benchTarget
	tokens    []string
	superjson bool // the input in the server's transformer's shape, as a client sends it
}

// benchAPIResult is what a load run measured.
type benchAPIResult struct {
	latencies []float64 // of the successful requests, ms, sorted
	errors    int64
	firstErr  string
	elapsed   time.Duration
	ranOut    bool // every target was used before the duration ended
}

// run sends requests over conns connections for duration.
func (l benchAPILoad) run(ctx context.Context, conns int, duration time.Duration) benchAPIResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var next, errCount atomic.Int64
	var firstErr atomic.Value
	lat := make([][]float64, conns)
	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			for runCtx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(l.targets)) {
					return
				}
				t0 := time.Now()
				if err := l.send(client, l.targets[i]); err != nil {
					errCount.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], float64(time.Since(t0))/1e6)
			}
		})
	}
	wg.Wait()
	res := benchAPIResult{elapsed: time.Since(start), errors: errCount.Load()}
	for _, x := range lat {
		res.latencies = append(res.latencies, x...)
	}
	sort.Float64s(res.latencies)
	res.ranOut = int(next.Load()) >= len(l.targets) && res.elapsed < duration
	if msg, ok := firstErr.Load().(string); ok {
		res.firstErr = msg
	}
	return res
}

// send makes one image.generate request and reads its answer.
func (l benchAPILoad) send(client *http.Client, t benchTarget) error {
	var in any = map[string]string{"projectId": t.project, "type": t.kind, "idempotencyKey": uuid.NewString()}
	if l.superjson {
		in = map[string]any{"json": in}
	}
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, l.base+"/trpc/image.generate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.tokens[t.user])
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, buf.Bytes())
	}
	return nil
}

type benchTarget struct {
	project, kind string
	user          int
}

// benchAPIProjects creates n projects with a photo on record (one stored blob key shared
// by all: the enqueue path only checks that a photo exists), spread over one user per
// connection, and returns every (project, type) pair in a shuffled-by-construction order
// (types interleaved so concurrent requests rarely hit one project) and each user's token.
func benchAPIProjects(ctx context.Context, store *db.PoolStore, secret string, n, users int) ([]benchTarget, []string, error) {
	tokens := make([]string, users)
	for u := range users {
		tok, err := auth.Issue(secret, fmt.Sprintf("bench-user-%d", u), auth.RoleAuthenticated, time.Hour)
		if err != nil {
			return nil, nil, err
		}
		tokens[u] = tok
	}
	ids := make([]string, n)
	err := store.InTx(ctx, func(q db.Querier) error {
		for i := range n {
			user := fmt.Sprintf("bench-user-%d", i%users)
			p, err := q.ProjectInsert(ctx, db.ProjectInsertParams{
				UserID: user, Name: fmt.Sprintf("bench %d", i), Marketplace: "amazon", Title: "Bench mug",
				Features: []string{"Dishwasher safe"}, Dimensions: "10 x 8 x 12 cm",
				DimWidth: 10, DimHeight: 8, DimDepth: 12, DimUnit: "cm",
			})
			if err != nil {
				return fmt.Errorf("create bench project: %w", err)
			}
			if _, err := q.SourceImageUpsert(ctx, db.SourceImageUpsertParams{
				ProjectID: p.ID, UserID: user, StorageKey: storage.KeyFor([]byte("bench photo"), "image/jpeg"),
				Width: 2000, Height: 2000, Bytes: 1, Mime: "image/jpeg",
			}); err != nil {
				return fmt.Errorf("record bench photo: %w", err)
			}
			ids[i] = p.ID.String()
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	targets := make([]benchTarget, 0, n*len(benchTypes))
	for _, kind := range benchTypes {
		for i, id := range ids {
			targets = append(targets, benchTarget{project: id, kind: kind, user: i % users})
		}
	}
	return targets, tokens, nil
}

// percentile returns the p-quantile (0..1) of sorted values, 0 when there are none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[min(i, len(sorted)-1)]
}
