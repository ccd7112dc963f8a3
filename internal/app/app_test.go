package app

import (
	"context"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testConfig is a configuration for an app on a fresh test database, listening on a
// loopback port chosen by the system.
func testConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	base := map[string]string{
		"DATABASE_URL":      pgtest.NewURL(t),
		"PACKSHOT_ADDR":     "127.0.0.1:0",
		"PACKSHOT_DATA_DIR": t.TempDir(),
		"AUTH_JWT_SECRET":   "app-test-secret-app-test-secret-0123456789",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPartsStopInReverseOrder: serve's parts start in the order the data flows and stop
// in the reverse order, so the HTTP server drains before the queue stops and the notifier
// stops last; after Stop nothing listens any more.
func TestPartsStopInReverseOrder(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: testConfig(t, nil), Migrate: true, API: true, Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var events []string
	a.parts.Observe = func(name string, stopping bool) {
		verb := "start "
		if stopping {
			verb = "stop "
		}
		events = append(events, verb+name)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.HTTP.Addr()
	waitReady(t, base)

	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	parts := []string{"notifier", "realtime publisher", "queue", "blob collector", "realtime hub", "http server"}
	if got := a.Parts(); !slices.Equal(got, parts) {
		t.Fatalf("parts %q; want %q", got, parts)
	}
	if !slices.Equal(events, wantEvents(parts)) {
		t.Fatalf("events:\n got %q\nwant %q", events, wantEvents(parts))
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the HTTP server still answers after Stop")
	}
	if a.Notifier.Ready() == nil {
		t.Fatal("the notifier reports ready after Stop")
	}
}

// TestWorkerHasNoHTTP: a worker runs the queue without the API or realtime's hub.
func TestWorkerHasNoHTTP(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: testConfig(t, nil), Migrate: true, Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := []string{"notifier", "realtime publisher", "queue", "blob collector"}
	if got := a.Parts(); !slices.Equal(got, want) {
		t.Fatalf("parts %q; want %q", got, want)
	}
	if a.HTTP != nil || a.Realtime != nil {
		t.Fatal("a worker built an HTTP server or a realtime hub")
	}
}

func wantEvents(parts []string) []string {
	var want []string
	for _, p := range parts {
		want = append(want, "start "+p)
	}
	for i := len(parts) - 1; i >= 0; i-- {
		want = append(want, "stop "+parts[i])
	}
	return want
}

// waitReady polls /readyz until it answers 200 (the notifier connects in the
// background), failing the test after 30 s.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready within 30 s (last: %v)", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAPIOnlyRunsNoDispatcher: `serve -no-worker` builds the queue client to enqueue
// with, but starts no dispatcher; stopping it still sends its enqueues' doorbells.
func TestAPIOnlyRunsNoDispatcher(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: testConfig(t, nil), Migrate: true, API: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := []string{"notifier", "realtime publisher", "queue (enqueue only)", "realtime hub", "http server"}
	if got := a.Parts(); !slices.Equal(got, want) {
		t.Fatalf("parts %q; want %q", got, want)
	}
}

// TestNoClaimOnceShutdownBegins: the dispatcher stops claiming the moment shutdown
// begins, not when its turn in the reverse order comes: a request still in flight holds
// the HTTP server's drain for the whole grace, and a job enqueued meanwhile must stay
// pending for another instance rather than be claimed and then cut off.
func TestNoClaimOnceShutdownBegins(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: testConfig(t, nil), Migrate: true, API: true, Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	httpStopping := make(chan struct{})
	a.parts.Observe = func(name string, stopping bool) {
		if stopping && name == "http server" {
			close(httpStopping)
		}
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "http://"+a.HTTP.Addr())
	// A request whose headers never end: the drain waits for it until the grace ends.
	c, err := net.Dial("tcp", a.HTTP.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}

	sctx, cancel := context.WithTimeout(ctx, 2*time.Second) // the grace
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop(sctx) }()
	<-httpStopping
	j, err := a.Queue.Enqueue(ctx, queue.EnqueueParams{Args: probeArgs{SleepMS: 10_000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-stopped; err != nil {
		t.Logf("stop: %v", err) // the drain ran out of grace, as intended
	}
	got, err := a.Queue.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.StartedAt != nil || got.Attempts != 0 {
		t.Fatalf("a job enqueued after shutdown began was claimed: status %s, attempts %d", got.Status, got.Attempts)
	}
}
