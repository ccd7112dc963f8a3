package ai

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// PauseStore keeps provider pauses where every packshot instance sees them;
// db.PauseStore keeps them in the provider_pauses table.
type PauseStore interface {
	// PausedUntil returns the time until which provider is paused; the zero
	// time, or a time in the past, when it is not paused.
	PausedUntil(ctx context.Context, provider string) (time.Time, error)
	// Pause pauses provider until the given time, or leaves a later pause in
	// force: a pause only ever extends. reason is for operators.
	Pause(ctx context.Context, provider string, until time.Time, reason string) error
}

// Guard defaults.
const (
	// DefaultGeneratorConcurrency caps concurrent calls to one image
	// generator (OpenAI, Gemini) from one instance.
	DefaultGeneratorConcurrency = 4
	// DefaultRemoverConcurrency caps concurrent calls to one background
	// remover (remove.bg) from one instance.
	DefaultRemoverConcurrency = 8
	// DefaultBreakerThreshold is how many Transient failures in a row open
	// the breaker.
	DefaultBreakerThreshold = 3
	// DefaultBreakerMinPause is the first breaker pause.
	DefaultBreakerMinPause = 2 * time.Second
	// DefaultBreakerMaxPause is the longest breaker pause.
	DefaultBreakerMaxPause = 60 * time.Second
	// DefaultMaxPause bounds the pause a provider's retry time can ask for.
	DefaultMaxPause = 10 * time.Minute
	// DefaultPauseCacheTTL is how long the guard trusts its last read of the
	// PauseStore.
	DefaultPauseCacheTTL = 250 * time.Millisecond
)

// storeTimeout bounds one PauseStore read or write, so a slow database
// delays a call by at most this much.
const storeTimeout = 2 * time.Second

// GuardConfig configures a Guard. The zero value of every field means its
// default.
type GuardConfig struct {
	// Store shares pauses between instances. Nil keeps them in this
	// instance only.
	Store PauseStore
	// Concurrency caps concurrent calls per provider name in this instance.
	// A provider not in the map gets DefaultGeneratorConcurrency (4) or
	// DefaultRemoverConcurrency (8).
	Concurrency map[string]int
	// BreakerThreshold is how many Transient failures (5xx, timeouts,
	// resets) in a row pause the provider. Defaults to 3.
	BreakerThreshold int
	// BreakerMinPause is the breaker's first pause; each failed probe after
	// a pause doubles it, up to BreakerMaxPause. Default 2 s and 60 s.
	BreakerMinPause, BreakerMaxPause time.Duration
	// MaxPause bounds a pause taken from a 429's retry time. Defaults to
	// 10 minutes.
	MaxPause time.Duration
	// PauseCacheTTL is how long a read of Store is trusted before the next
	// call reads it again. Defaults to 250 ms.
	PauseCacheTTL time.Duration
	// Observer receives metrics events; its nil funcs are skipped.
	Observer GuardObserver
	// Logger, when set, gets a line when a provider is paused, when it
	// recovers, and when Store fails.
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now; tests set a fake
	// clock. Pauses are compared with it, never waited out with timers.
	Now func() time.Time
	// BusyRetryAfter, when positive, makes a call that would wait for capacity
	// (every concurrency slot taken, or the probe after a pause still running)
	// fail at once with a RateLimited *Error (code "provider_busy",
	// RetryAfter this long) instead of waiting. The queue then snoozes the
	// job without spending an attempt and its worker runs other jobs (a
	// local-engine image, say) instead of sitting idle for up to the AI
	// timeout. Zero, the default, waits (for callers without a queue, such
	// as the offline pack command).
	BusyRetryAfter time.Duration
}

// GuardObserver receives a Guard's events, for metrics. Each func may be
// nil and must not block.
type GuardObserver struct {
	// CallFunc is called after every call that reached the provider, with
	// its outcome ("ok"; the error's Class name such as "transient" or
	// "rate_limited"; or "canceled" when the caller gave up) and how long
	// the provider took.
	CallFunc func(provider, outcome string, d time.Duration)
	// RejectFunc is called for every call refused without reaching the
	// provider because the provider is paused.
	RejectFunc func(provider string, retryAfter time.Duration)
	// PauseFunc is called when this instance pauses a provider: after a 429
	// (reason "rate_limited") or when the breaker opens ("breaker").
	PauseFunc func(provider, reason string, d time.Duration)
	// BusyFunc is called for every call sent back because the provider had
	// no free capacity (GuardConfig.BusyRetryAfter), for metrics.
	BusyFunc func(provider string)
	// WaitingFunc is called with +1 when a call starts waiting for one of
	// provider's slots or for its probe, and -1 when it stops: each waiting
	// call holds a worker. With BusyRetryAfter set no call ever waits.
	WaitingFunc func(provider string, delta int)
}

// Guard protects the AI providers from packshot and packshot from their
// outages. It wraps generators and background removers so that, per
// provider:
//
//   - at most Concurrency calls run at once in this instance; the rest wait
//     for a slot (or for their context), or, with BusyRetryAfter set, fail
//     at once with a RateLimited *Error so the queue snoozes their jobs;
//   - a 429 pauses the provider until its retry time, in the PauseStore, so
//     every instance stops calling it;
//   - BreakerThreshold Transient failures in a row pause it too, for
//     BreakerMinPause, doubling after every failed probe up to
//     BreakerMaxPause, and reset by any answer that is not Transient;
//   - while it is paused, calls fail at once with a RateLimited *Error
//     (code "provider_paused", RetryAfter until the pause ends) without
//     reaching it, so the queue snoozes the job without spending an attempt;
//   - when a pause ends, one call probes the provider while the others wait
//     for its answer: on success they all go, on failure they get the next
//     pause. An outage therefore costs one request per instance per pause.
//
// A failed probe pauses for at least twice the pause it followed, whoever
// set that pause, so instances back off together. When Store fails, the
// guard goes on with what this instance knows.
type Guard struct {
	cfg GuardConfig

	mu     sync.Mutex
	states map[string]*guardState
}

// NewGuard returns a Guard configured by cfg.
func NewGuard(cfg GuardConfig) *Guard {
	cfg.BreakerThreshold = orDefault(cfg.BreakerThreshold, DefaultBreakerThreshold)
	cfg.BreakerMinPause = orDefault(cfg.BreakerMinPause, DefaultBreakerMinPause)
	cfg.BreakerMaxPause = max(orDefault(cfg.BreakerMaxPause, DefaultBreakerMaxPause), cfg.BreakerMinPause)
	cfg.MaxPause = orDefault(cfg.MaxPause, DefaultMaxPause)
	cfg.PauseCacheTTL = orDefault(cfg.PauseCacheTTL, DefaultPauseCacheTTL)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Guard{cfg: cfg, states: make(map[string]*guardState)}
}

// Generator returns gen behind the guard, or nil when gen is nil.
func (g *Guard) Generator(gen ImageGenerator) ImageGenerator {
	if gen == nil {
		return nil
	}
	return &guardedGenerator{g: g, st: g.state(gen.Name(), DefaultGeneratorConcurrency), gen: gen}
}

// BackgroundRemover returns rm behind the guard, or nil when rm is nil.
func (g *Guard) BackgroundRemover(rm BackgroundRemover) BackgroundRemover {
	if rm == nil {
		return nil
	}
	return &guardedRemover{g: g, st: g.state(rm.Name(), DefaultRemoverConcurrency), rm: rm}
}

// InFlight returns how many calls to provider run in this instance now.
func (g *Guard) InFlight(provider string) int {
	g.mu.Lock()
	st := g.states[provider]
	g.mu.Unlock()
	if st == nil {
		return 0
	}
	return len(st.slots)
}

// Waiting returns how many calls to provider wait in this instance now, for
// a slot or for the probe after a pause. Each holds its caller (a worker)
// while it waits; with BusyRetryAfter set no call ever waits.
func (g *Guard) Waiting(provider string) int {
	g.mu.Lock()
	st := g.states[provider]
	g.mu.Unlock()
	if st == nil {
		return 0
	}
	return int(st.waiting.Load())
}

// PausedUntil returns until when this instance last knew provider to be
// paused (by itself or, as of its last read, the PauseStore); a time in the
// past when it is not paused. It does not read the store.
func (g *Guard) PausedUntil(provider string) time.Time {
	g.mu.Lock()
	st := g.states[provider]
	g.mu.Unlock()
	if st == nil {
		return time.Time{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.until()
}

// CapacityChecker is implemented by the generators and removers a Guard wraps.
// CheckCapacity returns, without calling the provider, the error a call made now would
// get at once: provider_paused while the provider is paused and, with BusyRetryAfter
// set, provider_busy while every slot of this instance is taken or the probe after a
// pause is under way. Nil means a call could go now (another caller may still take the
// last slot first). A job checks it before the expensive work a call needs (loading
// and cutting out the photo, encoding the reference image), so a busy provider costs
// its waiting jobs no more than a claim and a snooze.
type CapacityChecker interface {
	CheckCapacity(ctx context.Context) error
}

// checkCapacity is CapacityChecker.CheckCapacity for st.
func (g *Guard) checkCapacity(ctx context.Context, st *guardState) error {
	if err := g.refuseIfPaused(ctx, st); err != nil {
		return err
	}
	if g.cfg.BusyRetryAfter <= 0 {
		return nil // calls wait for capacity instead
	}
	st.mu.Lock()
	probing := st.probeNeeded && st.probe != nil
	st.mu.Unlock()
	if probing {
		return g.busy(st, "its first call after a pause is still under way")
	}
	if len(st.slots) >= cap(st.slots) {
		return g.busy(st, fmt.Sprintf("all %d of its slots are taken", cap(st.slots)))
	}
	return nil
}

type guardedGenerator struct {
	g   *Guard
	st  *guardState
	gen ImageGenerator
}

func (w *guardedGenerator) Name() string { return w.gen.Name() }

func (w *guardedGenerator) CheckCapacity(ctx context.Context) error {
	return w.g.checkCapacity(ctx, w.st)
}

func (w *guardedGenerator) Generate(ctx context.Context, req GenerateRequest) (*Result, error) {
	var res *Result
	err := w.g.do(ctx, w.st, func(ctx context.Context) (err error) {
		res, err = w.gen.Generate(ctx, req)
		return err
	})
	return res, err
}

type guardedRemover struct {
	g  *Guard
	st *guardState
	rm BackgroundRemover
}

func (w *guardedRemover) Name() string { return w.rm.Name() }

func (w *guardedRemover) CheckCapacity(ctx context.Context) error {
	return w.g.checkCapacity(ctx, w.st)
}

func (w *guardedRemover) RemoveBackground(ctx context.Context, image []byte) (*Result, error) {
	var res *Result
	err := w.g.do(ctx, w.st, func(ctx context.Context) (err error) {
		res, err = w.rm.RemoveBackground(ctx, image)
		return err
	})
	return res, err
}

// do runs call under the guard: admission (pause, probe), a concurrency
// slot, then the call, whose outcome updates the pause and the breaker.
func (g *Guard) do(ctx context.Context, st *guardState, call func(context.Context) error) error {
	probe, err := g.admit(ctx, st)
	if err != nil {
		return err
	}
	if err := g.takeSlot(ctx, st); err != nil {
		if probe {
			g.endProbe(st)
		}
		return err
	}
	defer func() { <-st.slots }()
	recorded := false
	if probe {
		// record ends the probe; this ends it for a call that panics.
		defer func() {
			if !recorded {
				g.endProbe(st)
			}
		}()
	} else if err := g.refuseIfPaused(ctx, st); err != nil {
		// The provider was paused while this call waited for a slot.
		return err
	}

	started := g.cfg.Now()
	err = call(ctx)
	took := g.cfg.Now().Sub(started)
	if f := g.cfg.Observer.CallFunc; f != nil {
		outcome := "ok"
		switch {
		case err != nil && ctx.Err() != nil:
			outcome = "canceled"
		case err != nil:
			c, _ := ClassOf(err)
			outcome = c.String()
		}
		f(st.name, outcome, took)
	}
	g.record(ctx, st, probe, err)
	recorded = true
	return err
}

// admit lets a call through unless the provider is paused. After a pause the
// first call through is the probe (probe true); the others wait for its
// outcome and then try again.
func (g *Guard) admit(ctx context.Context, st *guardState) (probe bool, err error) {
	for {
		if err := g.refuseIfPaused(ctx, st); err != nil {
			return false, err
		}
		st.mu.Lock()
		if !st.probeNeeded {
			st.mu.Unlock()
			return false, nil
		}
		if st.probe == nil {
			st.probe = make(chan struct{})
			st.mu.Unlock()
			return true, nil
		}
		running := st.probe
		st.mu.Unlock()
		if g.cfg.BusyRetryAfter > 0 {
			return false, g.busy(st, "its first call after a pause is still under way")
		}
		g.wait(st, +1)
		select {
		case <-running:
			g.wait(st, -1)
		case <-ctx.Done():
			g.wait(st, -1)
			return false, canceledError(st.name, ctx.Err())
		}
	}
}

// takeSlot takes one of the provider's concurrency slots: at once, or after
// waiting for one, or, with BusyRetryAfter set, not at all when none is
// free (the provider-busy error).
func (g *Guard) takeSlot(ctx context.Context, st *guardState) error {
	select {
	case st.slots <- struct{}{}:
		return nil
	default:
	}
	if g.cfg.BusyRetryAfter > 0 {
		return g.busy(st, fmt.Sprintf("all %d of its slots are taken", cap(st.slots)))
	}
	g.wait(st, +1)
	defer g.wait(st, -1)
	select {
	case st.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return canceledError(st.name, ctx.Err())
	}
}

// busy returns the error of a call sent back for want of capacity: RateLimited, so
// the queue snoozes the job for BusyRetryAfter without spending an attempt.
func (g *Guard) busy(st *guardState, why string) error {
	if f := g.cfg.Observer.BusyFunc; f != nil {
		f(st.name)
	}
	return &Error{
		Class:      RateLimited,
		Provider:   st.name,
		Code:       "provider_busy",
		Message:    fmt.Sprintf("%s is busy in this instance (%s); the job waits its turn in the queue", st.name, why),
		RetryAfter: g.cfg.BusyRetryAfter,
	}
}

// wait counts a call that starts (+1) or stops (-1) waiting for capacity.
func (g *Guard) wait(st *guardState, delta int64) {
	st.waiting.Add(delta)
	if f := g.cfg.Observer.WaitingFunc; f != nil {
		f(st.name, int(delta))
	}
}

// refuseIfPaused returns the RateLimited error of a paused provider, or nil.
func (g *Guard) refuseIfPaused(ctx context.Context, st *guardState) error {
	now := g.cfg.Now()
	until := g.pausedUntil(ctx, st, now)
	if !until.After(now) {
		return nil
	}
	st.mu.Lock()
	st.probeNeeded = true
	st.mu.Unlock()
	wait := until.Sub(now)
	if f := g.cfg.Observer.RejectFunc; f != nil {
		f(st.name, wait)
	}
	return &Error{
		Class:    RateLimited,
		Provider: st.name,
		Code:     "provider_paused",
		Message: fmt.Sprintf("%s is not taking requests right now, so packshot paused calls to it for %s",
			st.name, roundWait(wait)),
		RetryAfter: wait,
	}
}

// canceledError is the error of a call whose caller gave up while it waited
// for a slot or a probe.
func canceledError(provider string, err error) *Error {
	return &Error{Class: Transient, Provider: provider, Code: "canceled", Err: err,
		Message: fmt.Sprintf("the call to %s was cancelled while it waited its turn", provider)}
}

// roundWait rounds a pause for a message: to the second, or to 10 ms below
// a second.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return max(d.Round(10*time.Millisecond), 10*time.Millisecond)
}
