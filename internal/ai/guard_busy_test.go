package ai_test

import (
	"context"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
)

// With BusyRetryAfter set, a call that finds every slot taken, or the probe after a
// pause still running, is sent back at once as RateLimited (the queue snoozes its job
// without spending an attempt) instead of holding its caller until a slot frees.
func TestGuardSendsBackCallsThatWouldWaitForCapacity(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newStubProvider("openai")
	p.script(rateLimited("openai", time.Second))
	var busy int
	g := ai.NewGuard(ai.GuardConfig{
		Now: clock.Now, Concurrency: map[string]int{"openai": 1}, BusyRetryAfter: 3 * time.Second,
		Observer: ai.GuardObserver{BusyFunc: func(string) { busy++ }},
	})
	gen := g.Generator(p)

	// The slot is taken by a slow call: another call is sent back, not parked.
	p.hold = make(chan error)
	first := make(chan error, 1)
	go func() { first <- generate(context.Background(), gen) }()
	<-p.started
	e := requireClass(t, generate(context.Background(), gen), ai.RateLimited)
	if e.Code != "provider_busy" || e.RetryAfter != 3*time.Second {
		t.Errorf("busy error: code %q, retry after %v; want provider_busy after 3s", e.Code, e.RetryAfter)
	}
	if n := g.Waiting("openai"); n != 0 {
		t.Errorf("Waiting = %d; want 0 (nothing waits for capacity)", n)
	}
	p.hold <- rateLimited("openai", time.Second) // the slow call ends with a 429: a pause
	requireClass(t, <-first, ai.RateLimited)

	// After the pause one call probes; another call meanwhile is sent back too.
	clock.Advance(time.Second)
	probe := make(chan error, 1)
	go func() { probe <- generate(context.Background(), gen) }()
	<-p.started
	if e := requireClass(t, generate(context.Background(), gen), ai.RateLimited); e.Code != "provider_busy" {
		t.Errorf("call during the probe: code %q; want provider_busy", e.Code)
	}
	p.hold <- nil
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if busy != 2 || p.count() != 2 {
		t.Errorf("%d calls sent back, provider saw %d; want 2 and 2", busy, p.count())
	}
}

// Without BusyRetryAfter a call waits for a slot, and Waiting counts it.
func TestGuardCountsCallsWaitingForASlot(t *testing.T) {
	t.Parallel()
	p := newStubProvider("removebg")
	p.hold = make(chan error)
	waiting := make(chan int, 4)
	g := ai.NewGuard(ai.GuardConfig{
		Concurrency: map[string]int{"removebg": 1},
		Observer:    ai.GuardObserver{WaitingFunc: func(_ string, d int) { waiting <- d }},
	})
	rm := g.BackgroundRemover(p)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- removeBackground(context.Background(), rm) }()
	}
	<-p.started
	if d := <-waiting; d != 1 {
		t.Fatalf("WaitingFunc got %d; want +1 for the call waiting for the slot", d)
	}
	if n := g.Waiting("removebg"); n != 1 {
		t.Errorf("Waiting = %d; want 1", n)
	}
	p.hold <- nil
	<-p.started
	p.hold <- nil
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if d := <-waiting; d != -1 || g.Waiting("removebg") != 0 {
		t.Errorf("after the wait: delta %d, Waiting %d; want -1 and 0", d, g.Waiting("removebg"))
	}
}
