package ai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds what a Guard knows about each provider and how a call's
// outcome changes it: the pause in force (its own and the store's), the
// breaker's failure count and next pause, and the probe after a pause.

// guardState is what a Guard knows about one provider.
type guardState struct {
	name  string
	slots chan struct{} // one token per running call
	// waiting counts calls waiting for a slot or for the probe.
	waiting atomic.Int64

	mu          sync.Mutex
	ownUntil    time.Time     // the latest pause this instance set
	storeUntil  time.Time     // the store's pause as of fetchedAt
	fetchedAt   time.Time     // zero: never read
	fetching    bool          // a read of the store is under way
	failures    int           // Transient failures in a row
	nextPause   time.Duration // the breaker's next pause; 0 after a success
	probeNeeded bool          // a pause was seen; the next call must probe
	probe       chan struct{} // non-nil while a probe runs; closed when it ends
	storeFailed bool          // the last store access failed (logged once)
}

// until returns the pause in force as far as this instance knows. st.mu
// must be held.
func (st *guardState) until() time.Time {
	if st.storeUntil.After(st.ownUntil) {
		return st.storeUntil
	}
	return st.ownUntil
}

func (g *Guard) state(name string, defaultCap int) *guardState {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st, ok := g.states[name]; ok {
		return st
	}
	n := g.cfg.Concurrency[name]
	if n <= 0 {
		n = defaultCap
	}
	st := &guardState{name: name, slots: make(chan struct{}, n)}
	g.states[name] = st
	return st
}

// pausedUntil returns the pause in force, reading the store when the last
// read is older than PauseCacheTTL. While one call reads it, the others use
// the last value.
func (g *Guard) pausedUntil(ctx context.Context, st *guardState, now time.Time) time.Time {
	st.mu.Lock()
	if g.cfg.Store == nil || st.fetching || (!st.fetchedAt.IsZero() && now.Sub(st.fetchedAt) < g.cfg.PauseCacheTTL) {
		defer st.mu.Unlock()
		return st.until()
	}
	st.fetching = true
	st.mu.Unlock()

	readCtx, cancel := context.WithTimeout(ctx, storeTimeout)
	until, err := g.cfg.Store.PausedUntil(readCtx, st.name)
	cancel()

	st.mu.Lock()
	defer st.mu.Unlock()
	st.fetching = false
	st.fetchedAt = now
	switch {
	case err != nil && ctx.Err() != nil:
		st.fetchedAt = time.Time{} // the caller gave up; the next call reads again
	case err != nil:
		g.storeError(st, "read provider pause", err)
	default:
		g.storeOK(st)
		if until.After(now) && !until.Equal(st.storeUntil) && until.After(st.ownUntil) {
			// Another instance paused the provider: if this one's probe fails
			// later, it backs off at least twice as long.
			st.nextPause = max(st.nextPause, g.clampBreaker(2*until.Sub(now)))
		}
		st.storeUntil = until
	}
	return st.until()
}

// record updates the breaker and the pauses from a call's outcome.
func (g *Guard) record(ctx context.Context, st *guardState, probe bool, err error) {
	now := g.cfg.Now()
	var pause time.Duration
	var reason, detail string
	var recovered bool

	st.mu.Lock()
	var e *Error
	switch {
	case err == nil:
		recovered = st.probeNeeded
		st.failures, st.nextPause, st.probeNeeded = 0, 0, false
	case ctx.Err() != nil:
		// The caller gave up: that says nothing about the provider.
	case errors.As(err, &e) && e.Class == RateLimited:
		pause, reason, detail = min(e.RetryAfter, g.cfg.MaxPause), "rate_limited", err.Error()
	case errors.As(err, &e) && e.Class != Transient:
		// The provider answered (a safety block, a bad key): it is up.
		st.failures, st.nextPause, st.probeNeeded = 0, 0, false
	default:
		st.failures++
		if probe || (st.failures >= g.cfg.BreakerThreshold && !st.until().After(now)) {
			pause = g.clampBreaker(max(st.nextPause, g.cfg.BreakerMinPause))
			st.nextPause = g.clampBreaker(2 * pause)
			reason = "breaker"
			detail = fmt.Sprintf("%d failures in a row, the last: %v", st.failures, err)
		}
	}
	var until time.Time
	if pause > 0 {
		until = now.Add(pause)
		if until.After(st.ownUntil) {
			st.ownUntil = until
		}
		st.probeNeeded = true
	}
	if probe {
		close(st.probe)
		st.probe = nil
	}
	st.mu.Unlock()

	if recovered && g.cfg.Logger != nil {
		g.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "ai provider answers again", slog.String("provider", st.name))
	}
	if pause > 0 {
		g.pause(ctx, st, until, pause, reason, detail)
	}
}

// pause shares a pause this instance decided on through the store. It runs
// even when the caller has given up, so the other instances learn of it.
func (g *Guard) pause(ctx context.Context, st *guardState, until time.Time, d time.Duration, reason, detail string) {
	if f := g.cfg.Observer.PauseFunc; f != nil {
		f(st.name, reason, d)
	}
	if g.cfg.Logger != nil {
		g.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "ai provider paused", slog.String("provider", st.name),
			slog.String("reason", reason), slog.Duration("for", d), slog.String("detail", detail))
	}
	if g.cfg.Store == nil {
		return
	}
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := g.cfg.Store.Pause(writeCtx, st.name, until, reason+": "+detail)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		g.storeError(st, "record provider pause", err)
		return
	}
	g.storeOK(st)
}

// endProbe gives up a probe that never reached the provider, so a waiting
// call probes instead.
func (g *Guard) endProbe(st *guardState) {
	st.mu.Lock()
	defer st.mu.Unlock()
	close(st.probe)
	st.probe = nil
}

func (g *Guard) clampBreaker(d time.Duration) time.Duration {
	return min(max(d, g.cfg.BreakerMinPause), g.cfg.BreakerMaxPause)
}

// storeError logs the first of a run of store failures. st.mu must be held.
func (g *Guard) storeError(st *guardState, what string, err error) {
	if st.storeFailed {
		return
	}
	st.storeFailed = true
	if g.cfg.Logger != nil {
		g.cfg.Logger.Warn("ai guard: "+what+" failed; going on with this instance's own pauses",
			slog.String("provider", st.name), slog.String("error", err.Error()))
	}
}

// storeOK notes that the store works again. st.mu must be held.
func (g *Guard) storeOK(st *guardState) {
	if st.storeFailed && g.cfg.Logger != nil {
		g.cfg.Logger.Info("ai guard: provider pause store works again", slog.String("provider", st.name))
	}
	st.storeFailed = false
}
