package ai_test

import (
	"context"
	"sync"
	"time"

	"github.com/packshot/packshot/internal/ai"
)

// stubProvider stands in for a provider's client in the guard's unit tests:
// it answers from a script, or, with hold set, waits for each answer.
type stubProvider struct {
	name string
	// hold, when set, makes every call announce itself on started and wait
	// for its answer (nil: success) on hold.
	hold    chan error
	started chan struct{}
	// before, when set, runs at the start of every call.
	before func()

	mu      sync.Mutex
	answers []error
	calls   int
	running int
	maxRun  int
}

func newStubProvider(name string) *stubProvider {
	return &stubProvider{name: name, started: make(chan struct{}, 64)}
}

// script queues answers, one per call; nil is success. Calls beyond the
// script succeed.
func (p *stubProvider) script(answers ...error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers = append(p.answers, answers...)
}

func (p *stubProvider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *stubProvider) maxRunning() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxRun
}

func (p *stubProvider) Name() string { return p.name }

func (p *stubProvider) Generate(context.Context, ai.GenerateRequest) (*ai.Result, error) {
	return p.call()
}

func (p *stubProvider) RemoveBackground(context.Context, []byte) (*ai.Result, error) {
	return p.call()
}

func (p *stubProvider) call() (*ai.Result, error) {
	if p.before != nil {
		p.before()
	}
	p.mu.Lock()
	p.calls++
	p.running++
	p.maxRun = max(p.maxRun, p.running)
	var err error
	if len(p.answers) > 0 {
		err, p.answers = p.answers[0], p.answers[1:]
	}
	p.mu.Unlock()
	if p.hold != nil {
		p.started <- struct{}{}
		err = <-p.hold
	}
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &ai.Result{Image: []byte("png"), MIMEType: "image/png", Provider: p.name}, nil
}

func generate(ctx context.Context, gen ai.ImageGenerator) error {
	_, err := gen.Generate(ctx, ai.GenerateRequest{Image: []byte("png"), Prompt: "a mug"})
	return err
}

func removeBackground(ctx context.Context, rm ai.BackgroundRemover) error {
	_, err := rm.RemoveBackground(ctx, []byte("png"))
	return err
}

func rateLimited(provider string, after time.Duration) error {
	return &ai.Error{Class: ai.RateLimited, Provider: provider, Status: 429, Message: provider + " is rate limiting requests",
		RetryAfter: after}
}

func transient(provider string) error {
	return &ai.Error{Class: ai.Transient, Provider: provider, Status: 503, Message: provider + " is overloaded"}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memoryPauseStore is an ai.PauseStore in memory, with the database's
// only-extends rule, a read counter and a switch to make it fail.
type memoryPauseStore struct {
	mu     sync.Mutex
	pauses map[string]time.Time
	reads  int
	err    error
}

func newMemoryPauseStore() *memoryPauseStore {
	return &memoryPauseStore{pauses: map[string]time.Time{}}
}

func (s *memoryPauseStore) PausedUntil(_ context.Context, provider string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.pauses[provider], s.err
}

func (s *memoryPauseStore) Pause(_ context.Context, provider string, until time.Time, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if until.After(s.pauses[provider]) {
		s.pauses[provider] = until
	}
	return nil
}

func (s *memoryPauseStore) until(provider string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pauses[provider]
}

func (s *memoryPauseStore) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *memoryPauseStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}
