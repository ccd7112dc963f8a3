package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Runner is the start/stop bookkeeping of a component that runs one loop on its own
// goroutine from Start until Stop (not until Start's ctx ends): the notifier, the
// realtime publisher and the realtime hub embed it. The zero value is ready to use.
type Runner struct {
	mu      sync.Mutex
	started bool
	halted  bool
	stop    context.CancelFunc
	done    chan struct{}
}

// ErrStarted is Run's error on a second start.
var ErrStarted = errors.New("already started")

// Run starts run on its own goroutine with a context that keeps ctx's values but ends
// only at Halt. A second Run fails with ErrStarted.
func (r *Runner) Run(ctx context.Context, run func(ctx context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return ErrStarted
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.started, r.stop, r.done = true, cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		run(rctx)
	}()
	return nil
}

// Halt ends the run's context and returns a channel closed once run has returned. ok is
// false when there is nothing to wait for: the runner never ran, or was halted before.
func (r *Runner) Halt() (done <-chan struct{}, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.halted {
		return nil, false
	}
	r.halted = true
	r.stop()
	return r.done, true
}

// Wait waits until done is closed or ctx ends; the error names what did not stop.
func Wait(ctx context.Context, done <-chan struct{}, what string) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s stop: %w", what, context.Cause(ctx))
	}
}
