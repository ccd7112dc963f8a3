package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

	"github.com/packshot/packshot/internal/app"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/realtime"
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

// cmdBenchRealtime measures realtime end to end: it starts packshot's API (no
// dispatcher) on a database in this process, opens N wsLink WebSockets in a child process
// (so that this process's RSS is the server's, and each process stays within its
// open-files limit), subscribes each to one of P projects with project.onUpdate, changes
// projects U times a second through pack.Service.Update (the product's path: commit,
// then the doorbell), and measures each change from its commit to each client's receipt.
func cmdBenchRealtime(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench realtime")
	var o benchRealtimeOptions
	fs.IntVar(&o.clients, "clients", 1000, "WebSocket connections")
	fs.IntVar(&o.projects, "projects", 100, "projects; client i watches project i mod P")
	fs.IntVar(&o.rate, "rate", 100, "project changes per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to make changes")
	dbURL := fs.String("database-url", "", "PostgreSQL URL (default: DATABASE_URL, else the embedded cluster)")
	clientsOnly := fs.Bool("clients-only", false, "internal: run the clients, reading their spec from stdin")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server's CPU profile of the measured phase to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write the server's heap profile with every client subscribed to this file")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the clients in this process (RSS then counts both ends)")
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
	if o.clients < 1 || o.projects < 1 || o.rate < 1 {
		return errors.New("-clients, -projects and -rate must be at least 1")
	}
	cfg, logger, d, err := openBenchDatabase(ctx, e, *dbURL, true)
	if err != nil {
		return err
	}
	defer d.Close()
	b, err := startBenchRealtimeServer(ctx, cfg, logger, d)
	if err != nil {
		return err
	}
	defer b.stop()
	res, err := b.run(ctx, e, o)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(res)
	fmt.Fprintln(e.stdout, string(line))
	return nil
}

// benchRealtimeOptions are the flags of `packshot bench realtime`.
type benchRealtimeOptions struct {
	clients, projects, rate int
	duration                time.Duration
	cpuProfile, memProfile  string
	inProcess               bool
}

// benchRealtimeServer is packshot's API in this process, instrumented: when each version
// committed, and each doorbell's fan-out lag.
type benchRealtimeServer struct {
	app       *app.App
	secret    string
	commits   *benchCommits
	measuring atomic.Bool // only the changes of the measured phase count

	lagMu sync.Mutex
	lags  []float64 // doorbell → offered to every subscriber, ms
}

// startBenchRealtimeServer starts the API as `serve -no-worker` builds it, on a loopback
// port, with the connection caps off (every client comes from one address and user)
// and its files in a temporary directory.
func startBenchRealtimeServer(ctx context.Context, cfg config.Config, logger *slog.Logger, d *app.Database) (*benchRealtimeServer, error) {
	b := &benchRealtimeServer{secret: uuid.NewString(), commits: &benchCommits{at: map[benchKey]int64{}}}
	dataDir, err := os.MkdirTemp("", "packshot-bench-realtime-")
	if err != nil {
		return nil, err
	}
	cfg.Addr, cfg.DataDir, cfg.Storage, cfg.JWTSecret = "127.0.0.1:0", dataDir, "fs", b.secret
	cfg.MaxConns, cfg.MaxConnsPerIP, cfg.MaxConnsPerUser, cfg.WSMaxSubscriptions = 0, 0, 0, 0
	a, err := app.New(ctx, app.Options{
		Config: cfg, Logger: logger, Database: d, API: true,
		ObserveChange: func(c pack.Change) {
			if b.measuring.Load() {
				b.commits.put(c.ProjectID, c.Version, time.Now().UnixNano())
			}
		},
		RealtimeMetrics: &realtime.Metrics{FanoutLagFunc: b.fanoutLag},
	})
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	b.app = a
	return b, nil
}

func (b *benchRealtimeServer) fanoutLag(d time.Duration) {
	if b.measuring.Load() {
		b.lagMu.Lock()
		b.lags = append(b.lags, float64(d)/1e6)
		b.lagMu.Unlock()
	}
}

func (b *benchRealtimeServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.app.Stop(ctx)
	os.RemoveAll(b.app.Config.DataDir)
}

// run creates the projects, subscribes the clients, makes the changes and returns the
// result.
func (b *benchRealtimeServer) run(ctx context.Context, e *env, o benchRealtimeOptions) (benchRealtimeResult, error) {
	const user = "bench-user"
	token, err := auth.Issue(b.secret, user, auth.RoleAuthenticated, time.Hour)
	if err != nil {
		return benchRealtimeResult{}, err
	}
	ids, err := b.createProjects(ctx, user, o.projects)
	if err != nil {
		return benchRealtimeResult{}, err
	}
	if err := b.waitReady(ctx); err != nil {
		return benchRealtimeResult{}, err
	}
	cctx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	spec := benchClientSpec{Addr: b.app.HTTP.Addr(), Token: token, Projects: ids, Clients: o.clients,
		Superjson: b.app.Config.TRPCTransformer != "json"}
	// The measurement's own bookkeeping exists before the baseline.
	tally := newBenchTally(o.clients, ids, b.commits)
	rssBefore := rssKB()
	waitClients, err := subscribeBenchClients(cctx, e, spec, o.inProcess, tally)
	if err != nil {
		return benchRealtimeResult{}, err
	}
	defer waitClients()
	rssPerConn := float64(rssKB()-rssBefore) / float64(o.clients)
	reportBenchMemory(e, o, rssPerConn)

	// The changes.
	if f := o.cpuProfile; f != "" {
		if cf, err := os.Create(f); err == nil {
			_ = pprof.StartCPUProfile(cf)
			defer func() { pprof.StopCPUProfile(); cf.Close() }()
		}
	}
	b.measuring.Store(true)
	final, updates, err := runBenchUpdates(ctx, b.app.Pack, user, ids, o.rate, o.duration)
	if err != nil {
		return benchRealtimeResult{}, err
	}

	// Everyone must reach their project's final version.
	mismatches := tally.waitFinal(final, 10*time.Second)
	res := tally.result()
	res.Bench, res.Clients, res.Projects, res.Updates = "realtime", o.clients, o.projects, updates
	res.RSSPerConnKB = float64(int(rssPerConn*10)) / 10
	res.FinalVersionMismatches = mismatches
	b.lagMu.Lock()
	sort.Float64s(b.lags)
	if n := len(b.lags); n > 0 {
		res.FanoutP50MS, res.FanoutP99MS = round2(b.lags[n/2]), round2(b.lags[min(n-1, n*99/100)])
	}
	b.lagMu.Unlock()
	stopClients()
	return res, nil
}

// createProjects creates n projects of user and returns their ids.
func (b *benchRealtimeServer) createProjects(ctx context.Context, user string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		snap, err := b.app.Pack.Create(ctx, pack.Caller{UserID: user}, pack.CreateInput{Name: fmt.Sprintf("bench %d", i)})
		if err != nil {
			return nil, fmt.Errorf("create project: %w", err)
		}
		ids[i] = snap.ID.String()
	}
	return ids, nil
}

// waitReady waits until the instance hears notifications, so that no change of the
// measured phase is lost to a listener still connecting.
func (b *benchRealtimeServer) waitReady(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		err := b.app.Notifier.Ready()
		if err == nil {
			return nil
		}
		select {
		case <-tick.C:
		case <-deadline:
			return fmt.Errorf("realtime listener: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// subscribeBenchClients starts the clients and waits until every one has subscribed; it
// returns the function that waits for them to end.
func subscribeBenchClients(ctx context.Context, e *env, spec benchClientSpec, inProcess bool, tally *benchTally) (wait func(), err error) {
	receipts := make(chan benchReceipt, 65536)
	wait, err = startBenchClients(ctx, spec, inProcess, e, receipts)
	if err != nil {
		return nil, err
	}
	ready, ended := make(chan struct{}), make(chan struct{})
	go func() { tally.consume(receipts, ready); close(ended) }()
	select {
	case <-ready:
		return wait, nil
	case <-ended:
		err = errors.New("the clients stopped before all of them subscribed (see their errors above)")
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(5 * time.Minute):
		err = errors.New("clients did not all subscribe within 5 minutes")
	}
	wait()
	return nil, err
}

// reportBenchMemory writes the heap profile, if asked, and the memory per connection.
func reportBenchMemory(e *env, o benchRealtimeOptions, rssPerConn float64) {
	if f := o.memProfile; f != "" {
		if hf, err := os.Create(f); err == nil {
			_ = pprof.WriteHeapProfile(hf)
			hf.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(e.stderr, "%d clients subscribed; server RSS +%.1f KB per connection (heap %.1f KB, stacks %.1f KB, %d goroutines); changing %d projects %d times/s for %s\n",
		o.clients, rssPerConn, float64(ms.HeapInuse)/1024/float64(o.clients), float64(ms.StackInuse)/1024/float64(o.clients),
		runtime.NumGoroutine(), o.projects, o.rate, o.duration)
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
