package ai_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
)

func TestGuardCapsConcurrentCalls(t *testing.T) {
	t.Parallel()
	p := newStubProvider("openai")
	p.hold = make(chan error)
	g := ai.NewGuard(ai.GuardConfig{Concurrency: map[string]int{"openai": 2}})
	gen := g.Generator(p)

	const calls = 5
	errs := make(chan error, calls)
	for range calls {
		go func() { errs <- generate(context.Background(), gen) }()
	}
	// Two calls reach the provider; each answer lets one waiting call in.
	for i := range calls {
		<-p.started
		if i == 1 && g.InFlight("openai") != 2 {
			t.Errorf("InFlight = %d with two calls running, want 2", g.InFlight("openai"))
		}
		if i >= 1 {
			p.hold <- nil
		}
	}
	p.hold <- nil
	for range calls {
		if err := <-errs; err != nil {
			t.Errorf("call failed: %v", err)
		}
	}
	if p.maxRunning() != 2 {
		t.Errorf("at most %d calls ran at once, want the cap of 2", p.maxRunning())
	}
}

func TestGuardDefaultCaps(t *testing.T) {
	t.Parallel()
	g := ai.NewGuard(ai.GuardConfig{})
	for _, tc := range []struct {
		wrap func(*stubProvider)
		want int
	}{
		{func(p *stubProvider) { go generate(context.Background(), g.Generator(p)) }, ai.DefaultGeneratorConcurrency},
		{func(p *stubProvider) { go removeBackground(context.Background(), g.BackgroundRemover(p)) }, ai.DefaultRemoverConcurrency},
	} {
		p := newStubProvider(fmt.Sprintf("provider-%d", tc.want))
		p.hold = make(chan error)
		for range tc.want + 1 {
			tc.wrap(p)
		}
		for range tc.want {
			<-p.started
		}
		if n := g.InFlight(p.name); n != tc.want {
			t.Errorf("%s: InFlight = %d, want %d", p.name, n, tc.want)
		}
		for range tc.want + 1 {
			p.hold <- nil
		}
		if p.maxRunning() != tc.want {
			t.Errorf("%s: at most %d calls ran at once, want %d", p.name, p.maxRunning(), tc.want)
		}
	}
}

func TestGuardWaitForSlotEndsWithContext(t *testing.T) {
	t.Parallel()
	p := newStubProvider("removebg")
	p.hold = make(chan error)
	g := ai.NewGuard(ai.GuardConfig{Concurrency: map[string]int{"removebg": 1}})
	rm := g.BackgroundRemover(p)

	first := make(chan error, 1)
	go func() { first <- removeBackground(context.Background(), rm) }()
	<-p.started

	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- removeBackground(ctx, rm) }()
	cancel()
	err := <-second
	requireClass(t, err, ai.Transient)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	p.hold <- nil
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if p.count() != 1 {
		t.Errorf("provider saw %d calls, want 1 (the cancelled call never reached it)", p.count())
	}
}

func TestGuardPausesAfterRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	store := newMemoryPauseStore()
	p := newStubProvider("openai")
	p.script(rateLimited("openai", 10*time.Second))
	g := ai.NewGuard(ai.GuardConfig{Store: store, Now: clock.Now})
	gen := g.Generator(p)

	requireClass(t, generate(context.Background(), gen), ai.RateLimited)
	if got := store.until("openai"); !got.Equal(clock.Now().Add(10 * time.Second)) {
		t.Errorf("store pause until %v, want the provider's retry time %v", got, clock.Now().Add(10*time.Second))
	}

	clock.Advance(4 * time.Second)
	e := requireClass(t, generate(context.Background(), gen), ai.RateLimited)
	if e.Code != "provider_paused" || e.RetryAfter != 6*time.Second {
		t.Errorf("paused call: code %q, RetryAfter %s; want provider_paused, 6s", e.Code, e.RetryAfter)
	}
	if p.count() != 1 {
		t.Fatalf("provider saw %d calls while paused, want only the first", p.count())
	}

	clock.Advance(6 * time.Second)
	if err := generate(context.Background(), gen); err != nil {
		t.Fatalf("call after the pause: %v", err)
	}
	if p.count() != 2 {
		t.Errorf("provider saw %d calls, want 2", p.count())
	}
}

func TestGuardBreakerOpensAndCloses(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newStubProvider("gemini")
	g := ai.NewGuard(ai.GuardConfig{Now: clock.Now})
	gen := g.Generator(p)

	// Three transient failures in a row reach the provider, then it is paused.
	p.script(transient("gemini"), transient("gemini"), transient("gemini"))
	for range 3 {
		requireClass(t, generate(context.Background(), gen), ai.Transient)
	}
	// Every failed probe doubles the pause: 2 s, 4 s, 8 s, …, capped at 60 s.
	for _, pause := range []time.Duration{2, 4, 8, 16, 32, 60, 60} {
		pause *= time.Second
		for range 3 {
			e := requireClass(t, generate(context.Background(), gen), ai.RateLimited)
			if e.RetryAfter != pause {
				t.Fatalf("RetryAfter = %s, want %s", e.RetryAfter, pause)
			}
		}
		clock.Advance(pause)
		p.script(transient("gemini"))
		requireClass(t, generate(context.Background(), gen), ai.Transient)
	}
	if p.count() != 10 {
		t.Fatalf("provider saw %d calls, want 3 failures and 7 probes", p.count())
	}

	// A successful probe closes the breaker and resets the backoff.
	clock.Advance(60 * time.Second)
	for range 3 {
		if err := generate(context.Background(), gen); err != nil {
			t.Fatalf("call after recovery: %v", err)
		}
	}
	p.script(transient("gemini"), transient("gemini"), transient("gemini"))
	for range 3 {
		requireClass(t, generate(context.Background(), gen), ai.Transient)
	}
	if e := requireClass(t, generate(context.Background(), gen), ai.RateLimited); e.RetryAfter != 2*time.Second {
		t.Errorf("first pause after recovery = %s, want 2s", e.RetryAfter)
	}
}

func TestGuardBreakerCountsOnlyTransientFailuresInARow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newStubProvider("openai")
	g := ai.NewGuard(ai.GuardConfig{Now: clock.Now})
	gen := g.Generator(p)

	blocked := &ai.Error{Class: ai.Permanent, Provider: "openai", Code: "moderation_blocked", Message: "blocked"}
	p.script(transient("openai"), transient("openai"), blocked, transient("openai"), transient("openai"), nil,
		transient("openai"), transient("openai"))
	for range 8 {
		_ = generate(context.Background(), gen)
	}
	// A caller that gives up during the call is not the provider failing either.
	ctx, cancel := context.WithCancel(context.Background())
	p.before = cancel
	p.script(&ai.Error{Class: ai.Transient, Provider: "openai", Code: "canceled", Message: "cancelled", Err: context.Canceled})
	_ = generate(ctx, gen)
	p.before = nil
	if err := generate(context.Background(), gen); err != nil {
		t.Fatalf("provider paused after failures that were not in a row: %v", err)
	}
	if p.count() != 10 {
		t.Errorf("provider saw %d calls, want all 10", p.count())
	}
}

func TestGuardOneProbeAfterAPause(t *testing.T) {
	t.Parallel()
	for _, recovered := range []bool{false, true} {
		t.Run(fmt.Sprintf("recovered=%v", recovered), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			p := newStubProvider("openai")
			p.script(rateLimited("openai", 5*time.Second))
			g := ai.NewGuard(ai.GuardConfig{Now: clock.Now})
			gen := g.Generator(p)
			requireClass(t, generate(context.Background(), gen), ai.RateLimited)
			clock.Advance(5 * time.Second)

			// Five jobs come back when the pause ends; one probes, the rest wait.
			p.hold = make(chan error)
			const calls = 5
			errs := make(chan error, calls)
			for range calls {
				go func() { errs <- generate(context.Background(), gen) }()
			}
			<-p.started
			if !recovered {
				p.hold <- transient("openai")
				var paused int
				for range calls {
					var e *ai.Error
					if err := <-errs; errors.As(err, &e) && e.Code == "provider_paused" {
						paused++
					}
				}
				if paused != calls-1 || p.count() != 2 {
					t.Errorf("after a failed probe: %d calls paused, provider saw %d; want %d and 2", paused, p.count(), calls-1)
				}
				return
			}
			p.hold <- nil
			for range calls - 1 {
				<-p.started
				p.hold <- nil
			}
			for range calls {
				if err := <-errs; err != nil {
					t.Errorf("call after a successful probe: %v", err)
				}
			}
			if p.count() != calls+1 {
				t.Errorf("provider saw %d calls, want %d", p.count(), calls+1)
			}
		})
	}
}

func TestGuardProbeWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newStubProvider("openai")
	p.script(rateLimited("openai", time.Second))
	g := ai.NewGuard(ai.GuardConfig{Now: clock.Now})
	gen := g.Generator(p)
	requireClass(t, generate(context.Background(), gen), ai.RateLimited)
	clock.Advance(time.Second)

	p.hold = make(chan error)
	probe := make(chan error, 1)
	go func() { probe <- generate(context.Background(), gen) }()
	<-p.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := generate(ctx, gen); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting for the probe with a cancelled context: %v", err)
	}
	p.hold <- nil
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
}

func TestGuardSharesPausesThroughTheStore(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	store := newMemoryPauseStore()
	pa, pb := newStubProvider("openai"), newStubProvider("openai")
	a := ai.NewGuard(ai.GuardConfig{Store: store, Now: clock.Now}).Generator(pa)
	b := ai.NewGuard(ai.GuardConfig{Store: store, Now: clock.Now}).Generator(pb)

	pa.script(rateLimited("openai", 30*time.Second))
	requireClass(t, generate(context.Background(), a), ai.RateLimited)
	e := requireClass(t, generate(context.Background(), b), ai.RateLimited)
	if e.Code != "provider_paused" || e.RetryAfter != 30*time.Second || pb.count() != 0 {
		t.Errorf("instance B: code %q, RetryAfter %s, %d provider calls; want provider_paused, 30s, none",
			e.Code, e.RetryAfter, pb.count())
	}
}

func TestGuardCachesStoreReads(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	store := newMemoryPauseStore()
	p := newStubProvider("removebg")
	rm := ai.NewGuard(ai.GuardConfig{Store: store, Now: clock.Now, PauseCacheTTL: time.Second}).BackgroundRemover(p)
	for range 20 {
		if err := removeBackground(context.Background(), rm); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.readCount(); n != 1 {
		t.Errorf("store read %d times for 20 calls within the cache time, want 1", n)
	}
	clock.Advance(time.Second)
	if err := removeBackground(context.Background(), rm); err != nil {
		t.Fatal(err)
	}
	if n := store.readCount(); n != 2 {
		t.Errorf("store read %d times after the cache time, want 2", n)
	}
}

func TestGuardGoesOnWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	store := newMemoryPauseStore()
	store.fail(errors.New("database is down"))
	p := newStubProvider("openai")
	gen := ai.NewGuard(ai.GuardConfig{Store: store, Now: clock.Now}).Generator(p)

	if err := generate(context.Background(), gen); err != nil {
		t.Fatalf("call with a failing store: %v", err)
	}
	// Its own pauses still hold.
	p.script(rateLimited("openai", 3*time.Second))
	requireClass(t, generate(context.Background(), gen), ai.RateLimited)
	if e := requireClass(t, generate(context.Background(), gen), ai.RateLimited); e.Code != "provider_paused" {
		t.Errorf("code %q, want provider_paused", e.Code)
	}
	if p.count() != 2 {
		t.Errorf("provider saw %d calls, want 2", p.count())
	}
}

func TestGuardObserver(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var mu sync.Mutex
	events := map[string]int{}
	note := func(s string) { mu.Lock(); events[s]++; mu.Unlock() }
	g := ai.NewGuard(ai.GuardConfig{Now: clock.Now, Observer: ai.GuardObserver{
		CallFunc:   func(provider, outcome string, _ time.Duration) { note("call " + provider + " " + outcome) },
		RejectFunc: func(provider string, _ time.Duration) { note("reject " + provider) },
		PauseFunc:  func(provider, reason string, _ time.Duration) { note("pause " + provider + " " + reason) },
	}})
	p := newStubProvider("openai")
	gen := g.Generator(p)
	p.script(nil, rateLimited("openai", time.Second))
	for range 3 {
		_ = generate(context.Background(), gen)
	}
	want := map[string]int{"call openai ok": 1, "call openai rate_limited": 1, "pause openai rate_limited": 1, "reject openai": 1}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", events, want)
	}
}

func TestGuardWrapsNothingAsNothing(t *testing.T) {
	t.Parallel()
	g := ai.NewGuard(ai.GuardConfig{})
	if g.Generator(nil) != nil || g.BackgroundRemover(nil) != nil {
		t.Error("wrapping a nil provider gave a non-nil one; callers test for nil to fall back to the local engine")
	}
	if name := g.Generator(newStubProvider("gemini")).Name(); name != "gemini" {
		t.Errorf("Name = %q, want the wrapped provider's", name)
	}
}
