package queue

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/packshot/packshot/db"
)

// Config configures a Client. The zero value of every field but Notifier means its
// default.
type Config struct {
	// Notifier hears and rings the queue's doorbells on channel packshot_queue: wake-ups
	// for work enqueued elsewhere and cancellations of jobs running here. Required
	// (*notifier.Notifier, shared with realtime).
	Notifier Notifier
	// Queue is the queue this client enqueues to by default and dispatches from.
	// Defaults to "default".
	Queue string
	// MaxWorkers is how many jobs this instance runs at once. Defaults to 100.
	MaxWorkers int
	// Workers run the jobs, one per kind; the dispatcher claims only their kinds. Nil
	// makes a Client that only enqueues and manages jobs (an API-only instance).
	Workers *Workers
	// WorkerID names this instance in locked_by. Defaults to host-pid-random.
	WorkerID string
	// PollInterval is the safety-net poll for work that no wake-up announced (jobs
	// enqueued by an instance whose NOTIFY was lost, or by enqueue_job with
	// notify => false); each wait is jittered by ±10 %. Defaults to 1 s.
	PollInterval time.Duration
	// LeaseDuration is how long a claim holds a job without a heartbeat; after it a
	// rescuer may run the job elsewhere. Defaults to 30 s.
	LeaseDuration time.Duration
	// HeartbeatInterval is how often running jobs' leases are extended and checked for
	// cancellation. Defaults to LeaseDuration / 3.
	HeartbeatInterval time.Duration
	// DefaultTimeout bounds one run of a handler whose HandlerOptions.Timeout is zero;
	// the handler's context is cancelled at the deadline and the run counts as a failed
	// attempt. Defaults to 15 min.
	DefaultTimeout time.Duration
	// DefaultMaxAttempts is a job's max_attempts when neither EnqueueParams nor the
	// kind's HandlerOptions set one. Defaults to 5.
	DefaultMaxAttempts int
	// RetryBase and RetryCap shape the backoff after a failed attempt n (1-based): a
	// delay d = min(RetryCap, RetryBase·2^(n-1)), of which the wait is a uniformly random
	// point in [d/2, d]. Default to 1 s and 10 min.
	RetryBase, RetryCap time.Duration
	// DefaultSnooze is the wait for an error that says "do not spend an attempt" without
	// saying how long (SpendsAttempt() false and no RetryAfter). Defaults to 30 s.
	DefaultSnooze time.Duration
	// CompleteBatchSize caps how many results one write-back statement carries; results
	// are written as soon as the previous batch is done, so batches grow with load.
	// Defaults to 1,000.
	CompleteBatchSize int
	// NotifyInterval is the minimum time between two NOTIFYs this instance sends to wake
	// other instances; requests in between are coalesced. Defaults to 20 ms.
	NotifyInterval time.Duration
	// ProgressPersistInterval is the minimum time between two progress writes of one job
	// (0 % and 100 % are always written). Defaults to 1 s.
	ProgressPersistInterval time.Duration
	// RescueInterval is how often the elected instance looks for expired leases.
	// Defaults to 5 s.
	RescueInterval time.Duration
	// Retention is how long finished jobs (completed, failed, cancelled) are kept before
	// the elected instance prunes them. Defaults to 7 days.
	Retention time.Duration
	// PruneInterval is how often the elected instance prunes. Defaults to 1 min.
	PruneInterval time.Duration
	// Hooks are the domain's callbacks on job state changes. Optional.
	Hooks Hooks
	// Metrics receives counters and durations. Optional.
	Metrics Metrics
	// Logger logs failures of the machinery (not of jobs). Defaults to slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Queue == "" {
		c.Queue = "default"
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 100
	}
	if c.WorkerID == "" {
		host, _ := os.Hostname()
		c.WorkerID = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	}
	def(&c.PollInterval, time.Second)
	def(&c.LeaseDuration, 30*time.Second)
	def(&c.HeartbeatInterval, c.LeaseDuration/3)
	def(&c.DefaultTimeout, 15*time.Minute)
	if c.DefaultMaxAttempts <= 0 {
		c.DefaultMaxAttempts = 5
	}
	def(&c.RetryBase, time.Second)
	def(&c.RetryCap, 10*time.Minute)
	def(&c.DefaultSnooze, 30*time.Second)
	if c.CompleteBatchSize <= 0 {
		c.CompleteBatchSize = 1000
	}
	def(&c.NotifyInterval, 20*time.Millisecond)
	def(&c.ProgressPersistInterval, time.Second)
	def(&c.RescueInterval, 5*time.Second)
	def(&c.Retention, 7*24*time.Hour)
	def(&c.PruneInterval, time.Minute)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// backoff returns the wait before the next try after failed attempt n (1-based).
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryBase
	for i := 1; i < n && d < c.cfg.RetryCap; i++ {
		d *= 2
	}
	d = min(d, c.cfg.RetryCap)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// jitter returns d ±10 %.
func jitter(d time.Duration) time.Duration {
	span := int64(d) / 5
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(rand.Int64N(span))
}

// Hooks connect the queue to the domain. Jobs without a project_id never reach
// StateChangeTxFunc or AfterCommitFunc: they cost no extra statement.
type Hooks struct {
	// StateChangeTxFunc runs inside the transaction that changed the state of jobs with
	// a project_id (claim, complete, retry, snooze, release, fail, cancel, retry by hand,
	// rescue, persisted progress), after the change, with the changed rows. The pack code
	// recomputes the project's status there and bumps its version. It runs in a
	// savepoint: if it returns an error the state change is still committed and the
	// error logged. It must not NOTIFY.
	StateChangeTxFunc func(ctx context.Context, q db.Querier, jobs []*Job) error
	// AfterCommitFunc is called after such a transaction commits, with the same jobs. It
	// must not block (realtime rings its doorbell from here).
	AfterCommitFunc func(jobs []*Job)
	// ProgressFunc is called on every Job.Progress call, persisted or not, with the job
	// and the new values. It must not block.
	ProgressFunc func(job *Job, percent int, stage string)
}

// Metrics receives the queue's counters and durations; every field is optional. A later
// layer maps them to Prometheus. Depth and the oldest pending age come from Client.Depth.
type Metrics struct {
	// JobStartedFunc is called when a run starts, with how long the job waited since it
	// became runnable (run_at) — or since it was created, if later.
	JobStartedFunc func(kind string, wait time.Duration)
	// JobFinishedFunc is called when a run's outcome is written: outcome is "completed",
	// "retried", "snoozed", "released", "failed" or "cancelled"; run is the handler's
	// duration.
	JobFinishedFunc func(kind, outcome string, run time.Duration)
	// RescuedFunc is called with the number of expired leases the rescuer returned.
	RescuedFunc func(n int)
}
