package notifier_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// wait is how long a test waits for something that should take milliseconds; only a
// broken notifier reaches it.
const wait = 20 * time.Second

// recorder is a Metrics that counts and signals.
type recorder struct {
	missed chan struct{}
	rtt    chan time.Duration

	mu       sync.Mutex
	up       bool
	received map[string]int
	failed   map[string]int
}

func newRecorder() *recorder {
	return &recorder{missed: make(chan struct{}, 16), rtt: make(chan time.Duration, 1),
		received: map[string]int{}, failed: map[string]int{}}
}

func (r *recorder) ConnectionUp(up bool) { r.mu.Lock(); r.up = up; r.mu.Unlock() }
func (r *recorder) Reconnect()           {}
func (r *recorder) Received(topic string) {
	r.mu.Lock()
	r.received[topic]++
	r.mu.Unlock()
}
func (r *recorder) SendFailed(topic string, n int) {
	r.mu.Lock()
	r.failed[topic] += n
	r.mu.Unlock()
}
func (r *recorder) HeartbeatMissed() { signal(r.missed, struct{}{}) }
func (r *recorder) HeartbeatRoundTrip(d time.Duration) {
	signal(r.rtt, d)
}

func (r *recorder) count(m map[string]int, topic string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[topic]
}

func signal[T any](c chan T, v T) {
	select {
	case c <- v:
	default:
	}
}

// handler is a Handler whose calls arrive on channels.
type handler struct {
	payloads     chan string
	connected    chan struct{}
	disconnected chan struct{}
}

func newHandler() *handler {
	return &handler{payloads: make(chan string, 100), connected: make(chan struct{}, 16),
		disconnected: make(chan struct{}, 16)}
}

func (h *handler) Handler() notifier.Handler {
	return notifier.Handler{
		Notify:       func(p string) { h.payloads <- p },
		Connected:    func() { h.connected <- struct{}{} },
		Disconnected: func() { h.disconnected <- struct{}{} },
	}
}

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func notify(t *testing.T, n *notifier.Notifier, topic string, payloads ...string) {
	t.Helper()
	if err := n.Notify(context.Background(), topic, payloads...); err != nil {
		t.Fatal(err)
	}
}

func TestTopicsReachTheirHandlers(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	n := notifiertest.New(t, d.Pool, notifier.Config{})
	a, b1, b2 := newHandler(), newHandler(), newHandler()
	defer n.Listen("topic_a", a.Handler())()
	defer n.Listen("topic_b", b1.Handler())()
	defer n.Listen("topic_b", b2.Handler())()
	for _, h := range []*handler{a, b1, b2} {
		recv(t, h.connected, "Connected")
	}

	notify(t, n, "topic_b", "one", "two")
	notify(t, n, "topic_a", "three")
	for _, h := range []*handler{b1, b2} {
		if got := recv(t, h.payloads, "topic_b") + recv(t, h.payloads, "topic_b"); got != "onetwo" {
			t.Fatalf("topic_b handler got %q, want one then two", got)
		}
	}
	if got := recv(t, a.payloads, "topic_a"); got != "three" {
		t.Fatalf("topic_a handler got %q", got)
	}
	select {
	case p := <-a.payloads:
		t.Fatalf("topic_a handler also got %q", p)
	default:
	}
}

func TestListenAndUnlistenWhileRunning(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	m := newRecorder()
	n := notifiertest.New(t, d.Pool, notifier.Config{Metrics: m})
	first := newHandler()
	defer n.Listen("first", first.Handler())()
	recv(t, first.connected, "the first handler's Connected")

	// A topic added to the live connection.
	late := newHandler()
	unlisten := n.Listen("late", late.Handler())
	recv(t, late.connected, "Connected of a handler added while running")
	notify(t, n, "late", "hello")
	if got := recv(t, late.payloads, "late"); got != "hello" {
		t.Fatalf("got %q", got)
	}
	heard := m.count(m.received, "late")

	// Unlisten it: its handler is gone at once, and the connection stops listening. A
	// handler added afterwards is announced only after the connection has caught up with
	// both changes.
	unlisten()
	unlisten() // twice is fine
	marker := newHandler()
	defer n.Listen("marker", marker.Handler())()
	recv(t, marker.connected, "the marker's Connected")
	notify(t, n, "late", "unheard")
	notify(t, n, "marker", "after")
	recv(t, marker.payloads, "marker")
	if got := m.count(m.received, "late"); got != heard {
		t.Fatalf("the connection still receives the unlistened topic (%d notifications, had %d)", got, heard)
	}
	select {
	case p := <-late.payloads:
		t.Fatalf("unlistened handler got %q", p)
	default:
	}
	// The first handler was not announced again: its connection never changed.
	select {
	case <-first.connected:
		t.Fatal("Connected called again without a reconnect")
	default:
	}
}

func TestReconnectsAfterBackendKilled(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	n := notifiertest.New(t, d.Pool, notifier.Config{ReconnectMin: 10 * time.Millisecond})
	h := newHandler()
	defer n.Listen("events", h.Handler())()
	recv(t, h.connected, "Connected")
	pid := n.PID()
	if pid == 0 || n.Ready() != nil {
		t.Fatalf("connected, yet PID %d and Ready %v", pid, n.Ready())
	}

	var name string
	if err := d.Pool.QueryRow(context.Background(),
		"SELECT application_name FROM pg_stat_activity WHERE pid = $1", int64(pid)).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != notifier.ApplicationName {
		t.Fatalf("LISTEN connection's application_name %q", name)
	}
	if _, err := d.Pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", int64(pid)); err != nil {
		t.Fatal(err)
	}
	recv(t, h.disconnected, "Disconnected")
	recv(t, h.connected, "Connected after the reconnect")
	if n.PID() == pid || n.Ready() != nil {
		t.Fatalf("after reconnect: PID %d (was %d), Ready %v", n.PID(), pid, n.Ready())
	}
	notify(t, n, "events", "again")
	if got := recv(t, h.payloads, "events"); got != "again" {
		t.Fatalf("got %q", got)
	}
}

func TestMissedHeartbeatReplacesConnection(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	m := newRecorder()
	n := notifiertest.New(t, d.Pool, notifier.Config{
		HeartbeatInterval: 50 * time.Millisecond,
		ReconnectMin:      10 * time.Millisecond,
		Metrics:           m,
	})
	h := newHandler()
	defer n.Listen("events", h.Handler())()
	recv(t, h.connected, "Connected")
	recv(t, m.rtt, "a heartbeat's round trip")

	// The connection stops delivering its heartbeats (as a half-open one would): the
	// notifier notices, reports itself not ready and replaces the connection.
	n.SwallowHeartbeats(true)
	recv(t, m.missed, "a missed heartbeat")
	recv(t, h.disconnected, "Disconnected")
	if n.Ready() == nil {
		t.Fatal("ready after missing a heartbeat")
	}
	n.SwallowHeartbeats(false)
	recv(t, h.connected, "Connected again")
	drain(m.rtt)
	recv(t, m.rtt, "a heartbeat on the new connection")
	if err := n.Ready(); err != nil {
		t.Fatalf("not ready with heartbeats arriving: %v", err)
	}
}

func drain[T any](c chan T) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func TestReadyFollowsTheConnection(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	n := notifier.New(d.Pool, notifier.Config{})
	if n.Ready() == nil {
		t.Fatal("ready before Start")
	}
	h := newHandler()
	n.Listen("events", h.Handler())
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, h.connected, "Connected")
	if err := n.Ready(); err != nil {
		t.Fatalf("not ready while connected: %v", err)
	}
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Ready() == nil || n.PID() != 0 {
		t.Fatal("ready after Stop")
	}

	// A server that cannot be reached: never ready.
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	unreachable := notifiertest.New(t, pool, notifier.Config{})
	if unreachable.Ready() == nil {
		t.Fatal("a notifier that never connected reports ready")
	}
}

func TestNotifyRefusesOversizedPayload(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	m := newRecorder()
	n := notifiertest.New(t, d.Pool, notifier.Config{Metrics: m})
	h := newHandler()
	defer n.Listen("big", h.Handler())()
	recv(t, h.connected, "Connected")

	tooBig := strings.Repeat("x", notifier.MaxPayload+1)
	if err := n.Notify(context.Background(), "big", "small", tooBig); err == nil {
		t.Fatal("a payload of 8000 bytes was accepted")
	}
	if got := m.count(m.failed, "big"); got != 2 {
		t.Fatalf("%d payloads counted as dropped, want 2", got)
	}
	largest := strings.Repeat("y", notifier.MaxPayload)
	notify(t, n, "big", largest)
	if got := recv(t, h.payloads, "big"); got != largest {
		t.Fatalf("received %d bytes (the refused batch's small payload leaked?)", len(got))
	}
	if err := n.Notify(context.Background(), "", "x"); err == nil {
		t.Fatal("an empty topic was accepted")
	}
}

// TestStopIsCleanAndIdempotent is not parallel: it checks that no goroutine of the
// package is left, which other tests' notifiers would spoil.
func TestStopIsCleanAndIdempotent(t *testing.T) {
	d := pgtest.New(t)
	idle := notifier.New(d.Pool, notifier.Config{})
	if err := idle.Stop(context.Background()); err != nil {
		t.Fatalf("Stop without Start: %v", err)
	}

	n := notifier.New(d.Pool, notifier.Config{HeartbeatInterval: 20 * time.Millisecond})
	h := newHandler()
	n.Listen("events", h.Handler())
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	recv(t, h.connected, "Connected")
	pid := n.PID()
	for range 2 {
		if err := n.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Start(context.Background()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
	select {
	case <-h.payloads:
		t.Fatal("unexpected payload")
	default:
	}

	// The connection is closed, and nothing of the notifier runs any more.
	deadline := time.Now().Add(wait)
	for {
		var alive bool
		if err := d.Pool.QueryRow(context.Background(),
			"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)", int64(pid)).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		leaked := strings.Contains(stacks, "internal/notifier.(*Notifier)")
		if !alive && !leaked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Stop: connection alive %v; goroutines:\n%s", alive, stacks)
		}
		<-time.After(10 * time.Millisecond) // poll the condition
	}
	if err := n.Notify(context.Background(), "events", "after stop"); err != nil {
		t.Fatalf("Notify after Stop: %v", err)
	}
}

func TestStopEndsWithItsContext(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	n := notifiertest.New(t, d.Pool, notifier.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either the loop had already ended (nil) or the context ended first.
	if err := n.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with an ended context: %v", err)
	}
}
