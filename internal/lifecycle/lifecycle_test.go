package lifecycle_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/lifecycle"
)

// recorder is a component that writes its starts and stops into a shared log.
type recorder struct {
	name     string
	log      *[]string
	startErr error
	stopErr  error
}

func (r *recorder) Start(context.Context) error {
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}

func (r *recorder) Stop(context.Context) error {
	*r.log = append(*r.log, "stop "+r.name)
	return r.stopErr
}

func TestGroupStopsInReverseOrder(t *testing.T) {
	var log []string
	var g lifecycle.Group
	for _, n := range []string{"notifier", "queue", "http"} {
		g.Add(n, &recorder{name: n, log: &log})
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); err != nil { // a second Stop does nothing
		t.Fatal(err)
	}
	want := []string{"start notifier", "start queue", "start http", "stop http", "stop queue", "stop notifier"}
	if !slices.Equal(log, want) {
		t.Fatalf("order:\n got %q\nwant %q", log, want)
	}
}

func TestGroupFailedStartStopsWhatStarted(t *testing.T) {
	var log []string
	var g lifecycle.Group
	boom := errors.New("boom")
	g.Add("a", &recorder{name: "a", log: &log})
	g.Add("b", &recorder{name: "b", log: &log})
	g.Add("c", &recorder{name: "c", log: &log, startErr: boom})
	g.Add("d", &recorder{name: "d", log: &log})
	err := g.Start(context.Background())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "start c") {
		t.Fatalf("err = %v, want the failure of c", err)
	}
	want := []string{"start a", "start b", "start c", "stop b", "stop a"}
	if !slices.Equal(log, want) {
		t.Fatalf("order:\n got %q\nwant %q", log, want)
	}
}

func TestGroupStopGoesOnPastAFailure(t *testing.T) {
	var log []string
	var g lifecycle.Group
	boom := errors.New("boom")
	g.Add("a", &recorder{name: "a", log: &log})
	g.Add("b", &recorder{name: "b", log: &log, stopErr: boom})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if !slices.Equal(log, []string{"start a", "start b", "stop b", "stop a"}) {
		t.Fatalf("log = %q", log)
	}
}

func TestLoopStopsItsRun(t *testing.T) {
	ran := make(chan struct{})
	l := lifecycle.Loop(func(ctx context.Context) {
		close(ran)
		<-ctx.Done()
	})
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-ran
	if err := l.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLoopStopGivesUpAtItsDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	l := lifecycle.Loop(func(context.Context) { <-release }) // ignores its context
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// quiescing is a recorder that also takes part in the quiesce phase.
type quiescing struct{ recorder }

func (q *quiescing) Quiesce() { *q.log = append(*q.log, "quiesce "+q.name) }

// TestGroupQuiescesBeforeStopping: a part below the top (the queue below the HTTP
// server) stops taking new work the moment Stop begins, not when its turn comes.
func TestGroupQuiescesBeforeStopping(t *testing.T) {
	var log []string
	var g lifecycle.Group
	g.Add("notifier", &recorder{name: "notifier", log: &log})
	g.Add("queue", &quiescing{recorder{name: "queue", log: &log}})
	g.Add("http", &recorder{name: "http", log: &log})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	log = nil
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"quiesce queue", "stop http", "stop queue", "stop notifier"}
	if !slices.Equal(log, want) {
		t.Fatalf("order:\n got %q\nwant %q", log, want)
	}
}

// blockingStart is a component whose Start waits until released.
type blockingStart struct {
	entered, release chan struct{}
	stopped          bool
}

func (b *blockingStart) Start(context.Context) error {
	close(b.entered)
	<-b.release
	return nil
}

func (b *blockingStart) Stop(context.Context) error { b.stopped = true; return nil }

// TestGroupStopDuringStart: a component whose Start was under way when Stop ran is
// stopped as soon as its Start returns, and no later component starts.
func TestGroupStopDuringStart(t *testing.T) {
	var log []string
	var g lifecycle.Group
	b := &blockingStart{entered: make(chan struct{}), release: make(chan struct{})}
	g.Add("slow", b)
	g.Add("later", &recorder{name: "later", log: &log})
	started := make(chan error)
	go func() { started <- g.Start(context.Background()) }()
	<-b.entered
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(b.release)
	if err := <-started; err == nil {
		t.Fatal("Start returned nil after a Stop during start-up")
	}
	if !b.stopped {
		t.Fatal("the component that was starting when Stop ran was never stopped")
	}
	if len(log) != 0 {
		t.Fatalf("a later component ran: %q", log)
	}
}

// TestRunnerRunsUntilHalt: the run outlives Start's context and ends at Halt; a second
// Run fails and a second Halt has nothing to wait for.
func TestRunnerRunsUntilHalt(t *testing.T) {
	var r lifecycle.Runner
	if _, ok := r.Halt(); ok {
		t.Fatal("Halt before Run has something to wait for")
	}
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	if err := r.Run(ctx, func(ctx context.Context) { close(running); <-ctx.Done() }); err != nil {
		t.Fatal(err)
	}
	<-running
	cancel() // Start's context ending does not stop the run
	if err := r.Run(context.Background(), func(context.Context) {}); !errors.Is(err, lifecycle.ErrStarted) {
		t.Fatalf("second Run: %v; want ErrStarted", err)
	}
	done, ok := r.Halt()
	if !ok {
		t.Fatal("Halt after Run has nothing to wait for")
	}
	if err := lifecycle.Wait(context.Background(), done, "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Halt(); ok {
		t.Fatal("a second Halt has something to wait for")
	}
}
