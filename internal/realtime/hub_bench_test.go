package realtime_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/realtime"
)

// BenchmarkHubFanout measures the hub alone (no database, no sockets): one doorbell, one
// in-memory load, and its offer to the project's 100 subscribers until each has taken it
// from its mailbox, with 10,000 subscribers over 100 projects. ns/op is one fan-out.
func BenchmarkHubFanout(b *testing.B) {
	const projects, subscribers = 100, 10000
	ids := make([]uuid.UUID, projects)
	versions := make([]atomic.Int64, projects)
	index := map[uuid.UUID]int{}
	for i := range ids {
		ids[i] = uuid.New()
		index[ids[i]] = i
	}
	h := realtime.NewHub(realtime.HubConfig{LoadFunc: func(_ context.Context, id uuid.UUID) (realtime.Snapshot, error) {
		v := versions[index[id]].Load()
		return realtime.Snapshot{ProjectID: id, UserID: "u", Version: v, Data: v}, nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = h.Run(ctx) }()
	h.Resync()

	var received atomic.Int64
	var wg sync.WaitGroup
	for i := range subscribers {
		sub := h.SubscribeProject(ids[i%projects])
		wg.Go(func() {
			defer sub.Close()
			for {
				select {
				case <-ctx.Done():
					return
				case <-sub.C():
				}
				if _, ok, _ := sub.Next(); ok {
					received.Add(1)
				}
			}
		})
	}
	waitFor := func(n int64) {
		for received.Load() < n {
			runtime.Gosched()
		}
	}
	waitFor(subscribers) // everyone has the first state
	b.ResetTimer()
	for n := range b.N {
		p := n % projects
		v := versions[p].Add(1)
		h.Ring(realtime.Change{ProjectID: ids[p], UserID: "u", Version: v})
		waitFor(int64(subscribers + (n+1)*subscribers/projects)) // all 100 have it
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}
