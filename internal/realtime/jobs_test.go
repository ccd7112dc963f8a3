package realtime_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/realtime"
)

// waitJobs returns the next job feed state offered to sub.
func waitJobs(t *testing.T, ctx context.Context, sub *realtime.Subscription) any {
	t.Helper()
	for {
		select {
		case <-ctx.Done():
			t.Fatal("no job feed state arrived")
		case <-sub.C():
		}
		if snap, ok, err := sub.Next(); err == nil && ok {
			return snap.Data
		}
	}
}

func TestJobFeedLoadsOnceForEveryWatcherAndBurst(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	started := make(chan int64, 4)
	release := make(chan struct{})
	hub := realtime.NewHub(realtime.HubConfig{
		LoadFunc: func(context.Context, uuid.UUID) (realtime.Snapshot, error) {
			return realtime.Snapshot{}, realtime.ErrNotFound
		},
		LoadJobsFunc: func(ctx context.Context) (any, error) {
			n := calls.Add(1)
			started <- n
			select {
			case <-release:
			case <-ctx.Done():
			}
			return n, nil
		},
		JobsInterval: time.Nanosecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { _ = hub.Run(ctx) }()

	ring := func() {
		for i := range 100 {
			hub.Ring(realtime.Change{ProjectID: uuid.New(), UserID: "someone", Version: int64(i + 1)})
		}
	}
	ring() // nobody watches the jobs: nothing to load
	a := hub.SubscribeJobs()
	defer a.Close()
	if n := <-started; n != 1 {
		t.Fatalf("the first watcher's load is call %d; doorbells without watchers loaded the feed", n)
	}
	b := hub.SubscribeJobs() // while the load runs: it gets a later read
	defer b.Close()
	ring()
	release <- struct{}{}
	if n := <-started; n != 2 {
		t.Fatalf("load %d; want the one repeat", n)
	}
	release <- struct{}{}
	for _, sub := range []*realtime.Subscription{a, b} {
		for waitJobs(t, ctx, sub) != int64(2) {
		}
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d loads for two watchers and 200 doorbells; want 2", n)
	}
}
