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
