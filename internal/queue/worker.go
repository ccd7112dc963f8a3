package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// JobArgs are the typed arguments of one job kind. Kind names the kind (e.g.
// "image.main"); it is called on the zero value when a worker is added, so it must not
// depend on the fields and must work on a value receiver. The value is marshalled to
// JSON as the job's payload and decoded back into the same type before Work.
type JobArgs interface {
	Kind() string
}

// Worker runs jobs of one kind, given their decoded args. Its context is cancelled on the
// run's timeout, when the job is cancelled (from any instance; context.Cause is
// ErrCancelled) and when the worker shuts down after its grace period (ErrShutdown).
// Return nil to complete the job; see Snooze and Permanent for the other outcomes; any
// other error retries with backoff. Delivery is at least once: Work must be idempotent.
type Worker[T JobArgs] interface {
	Work(ctx context.Context, job *Job, args T) error
}

// WorkFunc adapts a function to a Worker, for small handlers and tests.
type WorkFunc[T JobArgs] func(ctx context.Context, job *Job, args T) error

// Work calls f.
func (f WorkFunc[T]) Work(ctx context.Context, job *Job, args T) error { return f(ctx, job, args) }

// HandlerOptions tune one kind.
type HandlerOptions struct {
	// Concurrency caps how many jobs of this kind this instance runs at once. Zero means
	// no cap beyond Config.MaxWorkers.
	Concurrency int
	// Timeout bounds one run. Zero means Config.DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is the default max_attempts of jobs of this kind enqueued through this
	// Client. Zero means Config.DefaultMaxAttempts.
	MaxAttempts int
}

// Workers maps job kinds to their workers. Build it with NewWorkers and AddWorker before
// the Client (Config.Workers); it must not change once the Client is created.
type Workers struct {
	handlers map[string]handler
}

// NewWorkers returns an empty set of workers.
func NewWorkers() *Workers { return &Workers{handlers: map[string]handler{}} }

// handler runs one job of a kind: the payload decoding and the Worker behind it.
type handler struct {
	fn   func(ctx context.Context, job *Job) error
	opts HandlerOptions
}

// AddWorker adds w as the worker of T's kind. It panics when that kind already has one.
// A job whose payload does not decode into T fails at once, without a retry.
func AddWorker[T JobArgs](ws *Workers, w Worker[T], opts HandlerOptions) {
	var zero T
	kind := zero.Kind()
	ws.add(kind, func(ctx context.Context, job *Job) error {
		var args T
		if len(job.Payload) > 0 {
			if err := json.Unmarshal(job.Payload, &args); err != nil {
				return Permanent(fmt.Errorf("%s job payload does not decode: %w", kind, err))
			}
		}
		return w.Work(ctx, job, args)
	}, opts)
}

// add sets the handler of kind; it panics on an empty or duplicate kind.
func (ws *Workers) add(kind string, fn func(ctx context.Context, job *Job) error, opts HandlerOptions) {
	if kind == "" {
		panic("queue: a worker's kind is empty")
	}
	if _, dup := ws.handlers[kind]; dup {
		panic(fmt.Sprintf("queue: kind %q already has a worker", kind))
	}
	ws.handlers[kind] = handler{fn: fn, opts: opts}
}
