package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Component is a long-running part of the process.
type Component interface {
	// Start starts the component and returns once it runs (its goroutines started, its
	// listeners bound). ctx bounds the start only; Stop ends the run.
	Start(ctx context.Context) error
	// Stop stops the component and waits until it has stopped or ctx ends. It is called
	// at most once, and only after a successful Start.
	Stop(ctx context.Context) error
}

// Quiescer is a component that can stop taking new work at once, before anything is
// stopped: the queue stops claiming jobs the moment shutdown begins, while the HTTP
// server above it drains.
type Quiescer interface {
	// Quiesce stops taking new work without waiting; Stop finishes the rest.
	Quiesce()
}

// Group starts components in order and stops them in reverse order. Build it with Add
// before Start; it is not safe for concurrent use, except that Stop may run while Start
// is still starting components (a signal during start-up).
type Group struct {
	// Observe, if set, is told of each start and stop as it begins (tests check the
	// order with it; the root logs with it).
	Observe func(name string, stopping bool)
	// FailedStartTimeout bounds stopping the components already started when a later
	// one fails to start (Start's ctx may have no deadline). Defaults to 30 s.
	FailedStartTimeout time.Duration

	mu      sync.Mutex
	parts   []part
	started []part
	stopped bool
}

type part struct {
	name string
	c    Component
}

// Add appends a component, named in errors and logs. It panics after Start.
func (g *Group) Add(name string, c Component) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.started) > 0 || g.stopped {
		panic("lifecycle: Add after Start")
	}
	g.parts = append(g.parts, part{name, c})
}

// Start starts every component in the order added. If one fails, those already started
// are stopped in reverse order (within FailedStartTimeout) and the error names the one
// that failed.
func (g *Group) Start(ctx context.Context) error {
	for _, p := range g.parts {
		g.mu.Lock()
		if g.stopped {
			g.mu.Unlock()
			return errors.New("lifecycle: stopped while starting")
		}
		g.mu.Unlock()
		g.observe(p.name, false)
		if err := p.c.Start(ctx); err != nil {
			err = fmt.Errorf("start %s: %w", p.name, err)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.failedStartTimeout())
			defer cancel()
			return errors.Join(err, g.Stop(sctx))
		}
		g.mu.Lock()
		stopped := g.stopped
		if !stopped {
			g.started = append(g.started, p)
		}
		g.mu.Unlock()
		if stopped { // Stop ran while this one was starting: it did not see it
			g.observe(p.name, true)
			return errors.Join(errors.New("lifecycle: stopped while starting"), p.c.Stop(ctx))
		}
	}
	return nil
}

func (g *Group) failedStartTimeout() time.Duration {
	if g.FailedStartTimeout > 0 {
		return g.FailedStartTimeout
	}
	return 30 * time.Second
}

// Stop stops the started components: first every Quiescer stops taking new work, at
// once; then each component is stopped in reverse order, with ctx. It returns their
// errors joined: a component whose Stop fails does not keep the ones below it running.
// Calling Stop again does nothing.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	started := g.started
	g.started, g.stopped = nil, true
	g.mu.Unlock()
	for i := len(started) - 1; i >= 0; i-- {
		if q, ok := started[i].c.(Quiescer); ok {
			q.Quiesce()
		}
	}
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		p := started[i]
		g.observe(p.name, true)
		if err := p.c.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// Names returns the components' names in start order.
func (g *Group) Names() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	names := make([]string, len(g.parts))
	for i, p := range g.parts {
		names[i] = p.name
	}
	return names
}

func (g *Group) observe(name string, stopping bool) {
	if g.Observe != nil {
		g.Observe(name, stopping)
	}
}

// Func makes a Component of two functions; a nil function does nothing.
func Func(start, stop func(ctx context.Context) error) Component {
	return funcComponent{start, stop}
}

type funcComponent struct{ start, stop func(context.Context) error }

func (f funcComponent) Start(ctx context.Context) error {
	if f.start == nil {
		return nil
	}
	return f.start(ctx)
}

func (f funcComponent) Stop(ctx context.Context) error {
	if f.stop == nil {
		return nil
	}
	return f.stop(ctx)
}

// Loop makes a Component of a function that runs until its context ends (a
// maintenance loop): Start runs it on a goroutine, Stop cancels its context and waits
// for it to return (or for Stop's ctx to end).
func Loop(run func(ctx context.Context)) Component {
	return &loop{run: run}
}

type loop struct {
	run    func(context.Context)
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *loop) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		l.run(ctx)
	}()
	return nil
}

func (l *loop) Stop(ctx context.Context) error {
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
