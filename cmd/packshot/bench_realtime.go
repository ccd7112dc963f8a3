package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/trpc"
)

// benchRealtimeResult is the JSON line `packshot bench realtime` prints last.
type benchRealtimeResult struct {
	Bench        string  `json:"bench"`
	Clients      int     `json:"clients"`
	Projects     int     `json:"projects"`
	Updates      int     `json:"updates"`
	Receipts     int64   `json:"receipts"`
	P50MS        float64 `json:"p50_ms"`
	P99MS        float64 `json:"p99_ms"`
	MaxMS        float64 `json:"max_ms"`
	RSSPerConnKB float64 `json:"rss_per_conn_kb"`
	// FanoutP50MS and FanoutP99MS are the hub's part: doorbell to every mailbox.
	FanoutP50MS            float64 `json:"fanout_p50_ms"`
	FanoutP99MS            float64 `json:"fanout_p99_ms"`
	FinalVersionMismatches int     `json:"final_version_mismatches"`
}

// cmdBenchRealtime measures realtime end to end: it starts the API's subscriptions, the
// realtime broker and the pack service on a database in this process, opens N wsLink
// WebSockets in a child process (so that this process's RSS is the server's, and each
// process stays within its open-files limit), subscribes each to one of P projects
// with project.onUpdate, changes projects U times a second through pack.Service.Update
// (the product's path: commit, then the doorbell), and measures each change from its
// commit to each client's receipt.
func cmdBenchRealtime(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench realtime")
	clients := fs.Int("clients", 1000, "WebSocket connections")
	projects := fs.Int("projects", 100, "projects; client i watches project i mod P")
	rate := fs.Int("rate", 100, "project changes per second")
	duration := fs.Duration("duration", 20*time.Second, "how long to make changes")
	dbURL := fs.String("database-url", "", "PostgreSQL URL (default: DATABASE_URL, else the embedded cluster)")
	clientsOnly := fs.Bool("clients-only", false, "internal: run the clients, reading their spec from stdin")
	cpuProfile := fs.String("cpuprofile", "", "write the server's CPU profile of the measured phase to this file")
	memProfile := fs.String("memprofile", "", "write the server's heap profile with every client subscribed to this file")
	inProcess := fs.Bool("in-process", false, "run the clients in this process (RSS then counts both ends)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raiseOpenFiles()
	if *clientsOnly {
		var spec benchClientSpec
		if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
			return fmt.Errorf("read client spec: %w", err)
		}
		return runBenchClients(ctx, spec, e.stdout)
	}
	if *clients < 1 || *projects < 1 || *rate < 1 {
		return errors.New("-clients, -projects and -rate must be at least 1")
	}

	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	if *dbURL != "" {
		cfg.DatabaseURL = *dbURL
	}
	cfg.LogLevel = "warn"
	logger := newLogger(cfg, e.stderr)
	d, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer d.Close()

	// The server: pack service → broker → subscriptions over /ws.
	commits := &benchCommits{at: map[benchKey]int64{}}
	var measuring atomic.Bool // only the changes of the measured phase count
	var rt *realtime.Broker
	jobs := queue.NewClient(d.Store, queue.Config{Logger: logger})
	defer func() { _ = jobs.Stop(context.Background()) }()
	svc := pack.New(pack.Config{Store: d.Store, Blobs: benchBlobs{}, Logger: logger, Enqueuer: jobs,
		PackURLFunc: func(uuid.UUID) string { return "" },
		Watchers: pack.NewWatchers(benchAnnouncer(func(c pack.Change) {
			if measuring.Load() {
				commits.put(c.ProjectID, c.Version, time.Now().UnixNano())
			}
			rt.Publish(realtime.Doorbell{ProjectID: c.ProjectID, UserID: c.UserID, Version: c.Version})
		}))})
	var lagMu sync.Mutex
	var lags []float64 // doorbell → offered to every subscriber, ms
	hubCfg := api.RealtimeHubConfig(svc)
	hubCfg.Metrics = &realtime.Metrics{FanoutLagFunc: func(d time.Duration) {
		if measuring.Load() {
			lagMu.Lock()
			lags = append(lags, float64(d)/1e6)
			lagMu.Unlock()
		}
	}}
	nt, stopNotifier := startNotifier(ctx, d.Pool, logger, nil)
	defer stopNotifier()
	pub := realtime.NewPublisher(nt, realtime.PublisherConfig{})
	rt = realtime.New(realtime.Config{Notifier: nt, Publisher: pub, Hub: hubCfg})
	for _, c := range []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{pub, rt} {
		if err := c.Start(ctx); err != nil {
			return err
		}
		defer func() { _ = c.Stop(context.Background()) }()
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()

	secret := uuid.NewString()
	verifier, err := auth.NewVerifier(secret)
	if err != nil {
		return err
	}
	router := api.NewSubscriptionRouter(trpc.Config{AuthFunc: func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
		u, err := verifier.Verify(req.ConnectionParams["token"])
		if err != nil {
			return nil, err
		}
		return auth.WithUser(ctx, u), nil
	}}, rt)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: router.WebSocketHandler(), ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() { _ = srv.Serve(ln) })
	defer srv.Close()

	const user = "bench-user"
	token, err := auth.Issue(secret, user, auth.RoleAuthenticated, time.Hour)
	if err != nil {
		return err
	}
	ids := make([]string, *projects)
	for i := range ids {
		snap, err := svc.Create(ctx, pack.Caller{UserID: user}, pack.CreateInput{Name: fmt.Sprintf("bench %d", i)})
		if err != nil {
			return fmt.Errorf("create project: %w", err)
		}
		ids[i] = snap.ID.String()
	}
	for waited := 0; rt.Healthy() != nil; waited++ {
		if waited > 500 {
			return fmt.Errorf("realtime listener: %w", rt.Healthy())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The clients.
	spec := benchClientSpec{Addr: ln.Addr().String(), Token: token, Projects: ids, Clients: *clients}
	// The measurement's own bookkeeping exists before the baseline.
	tally := newBenchTally(*clients, ids, commits)
	receipts := make(chan benchReceipt, 65536)
	rssBefore := rssKB()
	waitClients, err := startBenchClients(sctx, spec, *inProcess, e, receipts)
	if err != nil {
		return err
	}
	defer waitClients()
	ready, ended := make(chan struct{}), make(chan struct{})
	go func() { tally.consume(receipts, ready); close(ended) }()
	select {
	case <-ready:
	case <-ended:
		return errors.New("the clients stopped before all of them subscribed (see their errors above)")
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Minute):
		return errors.New("clients did not all subscribe within 5 minutes")
	}
	rssPerConn := float64(rssKB()-rssBefore) / float64(*clients)
	if f := *memProfile; f != "" {
		if hf, err := os.Create(f); err == nil {
			_ = pprof.WriteHeapProfile(hf)
			hf.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(e.stderr, "%d clients subscribed; server RSS +%.1f KB per connection (heap %.1f KB, stacks %.1f KB, %d goroutines); changing %d projects %d times/s for %s\n",
		*clients, rssPerConn, float64(ms.HeapInuse)/1024/float64(*clients), float64(ms.StackInuse)/1024/float64(*clients),
		runtime.NumGoroutine(), *projects, *rate, *duration)

	// The changes.
	if f := *cpuProfile; f != "" {
		if cf, err := os.Create(f); err == nil {
			_ = pprof.StartCPUProfile(cf)
			defer func() { pprof.StopCPUProfile(); cf.Close() }()
		}
	}
	measuring.Store(true)
	final, updates, err := runBenchUpdates(ctx, svc, user, ids, *rate, *duration)
	if err != nil {
		return err
	}

	// Everyone must reach their project's final version.
	mismatches := tally.waitFinal(final, 10*time.Second)
	res := tally.result()
	res.Bench, res.Clients, res.Projects, res.Updates = "realtime", *clients, *projects, updates
	res.RSSPerConnKB = float64(int(rssPerConn*10)) / 10
	res.FinalVersionMismatches = mismatches
	lagMu.Lock()
	sort.Float64s(lags)
	if len(lags) > 0 {
		res.FanoutP50MS, res.FanoutP99MS = round2(lags[len(lags)/2]), round2(lags[min(len(lags)-1, len(lags)*99/100)])
	}
	lagMu.Unlock()
	stop()
	b, _ := json.Marshal(res)
	fmt.Fprintln(e.stdout, string(b))
	return nil
}

// runBenchUpdates renames projects rate times a second for duration through the pack
// service, and returns each project's final version and how many changes committed. A
// ticker hands the changes to updaters, one per group of projects, so that commits (each
// waits for its WAL flush) overlap as they do under real traffic; a tick whose updater is
// still busy is skipped rather than queued without bound.
func runBenchUpdates(ctx context.Context, svc *pack.Service, user string, ids []string, rate int, duration time.Duration) ([]int64, int, error) {
	const updaters = 4
	final := make([]int64, len(ids))
	work := make([]chan int, updaters)
	var updates atomic.Int64
	var wg sync.WaitGroup
	var updateErr atomic.Value
	for w := range work {
		work[w] = make(chan int, 1024)
		wg.Go(func() {
			for n := range work[w] {
				p := n % len(ids)
				name := fmt.Sprintf("bench %d #%d", p, n)
				snap, err := svc.Update(ctx, pack.Caller{UserID: user}, pack.UpdateInput{ID: ids[p], Name: &name})
				if err != nil {
					updateErr.Store(err)
					continue
				}
				final[p] = max(final[p], snap.Version) // p belongs to this updater alone
				updates.Add(1)
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	end := time.After(duration)
	n := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		select {
		case work[(n%len(ids))%updaters] <- n:
			n++
		default:
		}
	}
	tick.Stop()
	for _, w := range work {
		close(w)
	}
	wg.Wait()
	if err, ok := updateErr.Load().(error); ok {
		return nil, 0, fmt.Errorf("update project: %w", err)
	}
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	return final, int(updates.Load()), nil
}

// raiseOpenFiles lifts the soft open-files limit to the hard one: each connection is a
// file on both ends.
func raiseOpenFiles() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// rssKB returns this process's resident set after a full collection, in KiB.
func rssKB() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// benchBlobs stands in for storage: the benchmark's projects have no files.
type benchBlobs struct{}

func (benchBlobs) Put(context.Context, []byte, string) (string, error) {
	return "", errors.New("bench: no storage")
}
func (benchBlobs) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("bench: no storage")
}
func (benchBlobs) URL(key string) string { return "/files/" + key }

type benchKey struct {
	project uuid.UUID
	version int64
}

// benchCommits records when each version committed (Unix ns).
type benchCommits struct {
	mu sync.RWMutex
	at map[benchKey]int64
}

func (c *benchCommits) put(id uuid.UUID, v, at int64) {
	c.mu.Lock()
	c.at[benchKey{id, v}] = at
	c.mu.Unlock()
}

func (c *benchCommits) get(id uuid.UUID, v int64) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	at, ok := c.at[benchKey{id, v}]
	return at, ok
}

// benchTally turns receipts into latencies and each client's latest version.
type benchTally struct {
	projects []uuid.UUID
	commits  *benchCommits
	clients  int

	mu        sync.Mutex
	latest    []int64
	ready     int
	latencies []float64 // ms
	changed   chan struct{}
}

func newBenchTally(clients int, ids []string, commits *benchCommits) *benchTally {
	t := &benchTally{clients: clients, commits: commits, latest: make([]int64, clients),
		changed: make(chan struct{}, 1)}
	for _, id := range ids {
		t.projects = append(t.projects, uuid.MustParse(id))
	}
	return t
}

func (t *benchTally) consume(in <-chan benchReceipt, ready chan<- struct{}) {
	for r := range in {
		if r.client < 0 || r.client >= t.clients {
			continue
		}
		t.mu.Lock()
		if t.latest[r.client] == 0 {
			t.ready++
			if t.ready == t.clients {
				close(ready)
			}
		}
		t.latest[r.client] = max(t.latest[r.client], r.version)
		t.mu.Unlock()
		{
			if at, ok := t.commits.get(t.projects[r.client%len(t.projects)], r.version); ok {
				t.mu.Lock()
				t.latencies = append(t.latencies, float64(r.at-at)/1e6)
				t.mu.Unlock()
			}
		}
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

// waitFinal waits until every client has its project's final version, or the timeout;
// it returns how many have not.
func (t *benchTally) waitFinal(final []int64, timeout time.Duration) int {
	deadline := time.After(timeout)
	for {
		t.mu.Lock()
		behind := 0
		for c, v := range t.latest {
			if v < final[c%len(final)] {
				behind++
			}
		}
		t.mu.Unlock()
		if behind == 0 {
			return 0
		}
		select {
		case <-deadline:
			return behind
		case <-t.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (t *benchTally) result() benchRealtimeResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.latencies
	sort.Float64s(l)
	pct := func(p float64) float64 {
		if len(l) == 0 {
			return 0
		}
		return round2(l[min(len(l)-1, int(p*float64(len(l))))])
	}
	r := benchRealtimeResult{Receipts: int64(len(l)), P50MS: pct(0.50), P99MS: pct(0.99)}
	if len(l) > 0 {
		r.MaxMS = round2(l[len(l)-1])
	}
	return r
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// benchAnnouncer passes project changes to a function and drops job progress.
type benchAnnouncer func(pack.Change)

// ProjectChanged calls a.
func (a benchAnnouncer) ProjectChanged(c pack.Change) { a(c) }

// JobProgress does nothing: the bench runs no jobs.
func (benchAnnouncer) JobProgress(pack.JobProgress) {}
