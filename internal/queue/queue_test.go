package queue

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// wait is how long a test waits for something that should take milliseconds; only a
// broken queue reaches it.
const wait = 20 * time.Second

// finish is one written outcome, seen through Metrics.JobFinishedFunc.
type finish struct {
	kind, outcome string
}

type bundle struct {
	db       *pgtest.DB
	finished chan finish
	rescued  chan int
}

// setup returns a fresh database and a Config for it whose poll is too slow to matter,
// so every test exercises the real wake-ups; tests adjust the rest.
func setup(t *testing.T) (*bundle, Config) {
	t.Helper()
	b := &bundle{db: pgtest.New(t), finished: make(chan finish, 10000), rescued: make(chan int, 100)}
	cfg := Config{
		Notifier:       notifiertest.New(t, b.db.Pool, notifier.Config{}),
		MaxWorkers:     10,
		PollInterval:   time.Minute,
		RetryBase:      time.Millisecond,
		RetryCap:       5 * time.Millisecond,
		RescueInterval: time.Minute,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: Metrics{
			JobFinishedFunc: func(kind, outcome string, _ time.Duration) { b.finished <- finish{kind, outcome} },
			RescuedFunc:     func(n int) { b.rescued <- n },
		},
	}
	return b, cfg
}

// testArgs are the args of a job of any kind, with an optional ready-made payload, so
// tests name kinds freely; ws.add gives such a kind its handler.
type testArgs struct {
	kind    string
	payload any
}

func (a testArgs) Kind() string { return a.kind }

// MarshalJSON marshals the payload; a nil payload is {}.
func (a testArgs) MarshalJSON() ([]byte, error) {
	if a.payload == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(a.payload)
}

// args returns the args of a job of kind with an optional payload.
func args(kind string, payload ...any) testArgs {
	a := testArgs{kind: kind}
	if len(payload) > 0 {
		a.payload = payload[0]
	}
	return a
}

// start returns a started client with the workers register adds, stopped when the test
// ends.
func (b *bundle) start(t *testing.T, cfg Config, register func(ws *Workers)) *Client {
	t.Helper()
	ws := NewWorkers()
	register(ws)
	cfg.Workers = ws
	c := NewClient(b.db.Store, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

// next returns the next written outcome.
func (b *bundle) next(t *testing.T) finish {
	t.Helper()
	select {
	case f := <-b.finished:
		return f
	case <-time.After(wait):
		t.Fatal("no job outcome written")
		return finish{}
	}
}

// expect waits for the next outcome and checks it.
func (b *bundle) expect(t *testing.T, outcome string) {
	t.Helper()
	if f := b.next(t); f.outcome != outcome {
		t.Fatalf("outcome %q, want %q", f.outcome, outcome)
	}
}

func get(t *testing.T, c *Client, id uuid.UUID) *Job {
	t.Helper()
	j, err := c.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func enqueue(t *testing.T, c *Client, p EnqueueParams) *Job {
	t.Helper()
	j, err := c.Enqueue(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out waiting")
		var zero T
		return zero
	}
}

// retryAfterError is an error from another package that asks for a wait.
type retryAfterError struct{ d time.Duration }

func (e retryAfterError) Error() string             { return "slow down" }
func (e retryAfterError) RetryAfter() time.Duration { return e.d }

// classError mimics internal/ai's *Error: Retryable and SpendsAttempt methods.
type classError struct{ retryable, spends bool }

func (e *classError) Error() string       { return "provider said no" }
func (e *classError) Retryable() bool     { return e.retryable }
func (e *classError) SpendsAttempt() bool { return e.spends }

var errBoom = errors.New("boom")

// counter counts calls per job id.
type counter struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

func (c *counter) add(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[uuid.UUID]int{}
	}
	c.n[id]++
}
