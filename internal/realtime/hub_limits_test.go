package realtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/realtime"
)

// userLoads is a LoadUserFunc whose loads of blocked users are announced on started and
// wait for a release each; every call is counted per user.
type userLoads struct {
	blocked map[string]bool
	started chan string
	release chan struct{}

	mu    sync.Mutex
	calls map[string]int
}

func newUserLoads(blocked ...string) *userLoads {
	u := &userLoads{blocked: map[string]bool{}, started: make(chan string, 16), release: make(chan struct{}),
		calls: map[string]int{}}
	for _, b := range blocked {
		u.blocked[b] = true
	}
	return u
}

func (u *userLoads) load(ctx context.Context, user string) ([]realtime.Snapshot, error) {
	u.mu.Lock()
	u.calls[user]++
	u.mu.Unlock()
	if u.blocked[user] {
		u.started <- user
		select {
		case <-u.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []realtime.Snapshot{{ProjectID: uuid.New(), UserID: user, Version: 1, Summary: user}}, nil
}

func (u *userLoads) count(user string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[user]
}

// waitList waits until a list subscription has been offered something.
func waitList(t *testing.T, ctx context.Context, sub *realtime.Subscription, what string) {
	t.Helper()
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no list state arrived", what)
		case <-sub.C():
		}
		if len(sub.NextAll()) > 0 {
			return
		}
	}
}

// TestListSubscribeFloodDoesNotStallOthers sends 10,000 list subscribes for one user
// while that user's load is slow: they share one load (and one repeat for those who came
// during it), so another user's subscriber is served while the flood's load is still
// pending, and the flood costs two loads, not ten thousand.
func TestListSubscribeFloodDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	loads := newUserLoads("flood")
	h := realtime.NewHub(realtime.HubConfig{
		LoadFunc:        func(context.Context, uuid.UUID) (realtime.Snapshot, error) { return realtime.Snapshot{}, nil },
		LoadUserFunc:    loads.load,
		LoadConcurrency: 2,
	})
	go func() { _ = h.Run(ctx) }()

	first := h.SubscribeUser("flood")
	defer first.Close()
	if u := <-loads.started; u != "flood" {
		t.Fatalf("first load was for %s", u)
	}
	flood := make([]*realtime.Subscription, 10000)
	for i := range flood {
		flood[i] = h.SubscribeUser("flood")
		defer flood[i].Close()
	}
	other := h.SubscribeUser("other")
	defer other.Close()
	waitList(t, ctx, other, "the other user, during the flood")
	if n := loads.count("flood"); n != 1 {
		t.Errorf("loads for the flooding user while the other was served: %d; want 1", n)
	}

	// The first load ends; the subscribers who came during it get one more, later read.
	loads.release <- struct{}{}
	if u := <-loads.started; u != "flood" {
		t.Fatalf("repeat load was for %s", u)
	}
	loads.release <- struct{}{}
	for _, sub := range flood {
		waitList(t, ctx, sub, "a flooding subscriber")
	}
	if n := loads.count("flood"); n != 2 {
		t.Errorf("loads for 10,001 list subscribes: %d; want 2", n)
	}
}

// TestLoadsNobodyWaitsForAreDropped queues a user load and a project load, then has
// their subscribers leave before a worker is free: both are dropped, not run.
func TestLoadsNobodyWaitsForAreDropped(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	loads := newUserLoads("busy")
	var projectLoads, dropped atomic.Int64
	h := realtime.NewHub(realtime.HubConfig{
		LoadFunc: func(_ context.Context, id uuid.UUID) (realtime.Snapshot, error) {
			projectLoads.Add(1)
			return realtime.Snapshot{ProjectID: id, UserID: "gone", Version: 1, Data: 1}, nil
		},
		LoadUserFunc:    loads.load,
		LoadConcurrency: 1,
		Metrics:         &realtime.Metrics{LoadsDroppedFunc: func() { dropped.Add(1) }},
	})
	go func() { _ = h.Run(ctx) }()

	busy := h.SubscribeUser("busy") // takes the only worker
	defer busy.Close()
	<-loads.started
	h.SubscribeUser("gone").Close()
	h.SubscribeProject(uuid.New()).Close()
	later := h.SubscribeUser("later")
	defer later.Close()
	loads.release <- struct{}{}
	waitList(t, ctx, later, "the subscriber queued behind the abandoned loads")
	if n := loads.count("gone"); n != 0 {
		t.Errorf("loads for a user whose subscriber left: %d; want 0", n)
	}
	if n := projectLoads.Load(); n != 0 {
		t.Errorf("loads for a project whose subscriber left: %d; want 0", n)
	}
	if n := dropped.Load(); n != 2 {
		t.Errorf("dropped loads counted: %d; want 2", n)
	}
}
