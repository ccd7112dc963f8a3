package queue

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

// result is the outcome of one run, waiting to be written.
type result struct {
	job     *Job
	outcome outcome
	runAt   time.Time // next run, for retry, snooze and release
	err     string
	elapsed time.Duration
}

// completer writes run outcomes back in batches: one goroutine takes whatever has
// queued up (at most Config.CompleteBatchSize) and writes it with one statement per
// outcome group, so batches grow with load while a lone result is written at once.
type completer struct {
	d    *dispatcher
	ch   chan result
	done chan struct{}

	mu     sync.RWMutex // held shared while sending, exclusively to close ch
	closed bool
}

func newCompleter(d *dispatcher) *completer {
	c := &completer{d: d, ch: make(chan result, 4*d.c.cfg.CompleteBatchSize), done: make(chan struct{})}
	go c.loop()
	return c
}

// add queues a result; it blocks only when the completer is far behind, which holds the
// handler's slot and so slows claiming down.
//
// After close it drops r: only a handler that ignored its context past the shutdown
// deadline gets there, and its job has been released already.
func (c *completer) add(r result) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.closed {
		c.ch <- r
	}
}

// close writes everything queued and stops.
func (c *completer) close() {
	c.mu.Lock()
	c.closed = true
	close(c.ch)
	c.mu.Unlock()
	<-c.done
}

func (c *completer) loop() {
	defer close(c.done)
	size := c.d.c.cfg.CompleteBatchSize
	batch := make([]result, 0, size)
	for r := range c.ch {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < size {
			select {
			case r, ok := <-c.ch:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.writeRetrying(batch)
	}
}

// writeRetrying writes a batch, retrying a failing database a few times. If it still
// fails the outcomes are lost, and the leases expire: the rescuer runs the jobs again
// (at-least-once).
func (c *completer) writeRetrying(batch []result) {
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := c.write(ctx, batch)
		cancel()
		if err == nil {
			return
		}
		if try == 5 {
			c.d.c.cfg.Logger.Error("queue could not write job outcomes; leases will expire and the jobs run again",
				"err", err, "jobs", len(batch))
			return
		}
		c.d.c.cfg.Logger.Warn("queue write-back failed; retrying", "err", err, "in", wait)
		time.Sleep(wait)
		wait *= 2
	}
}

// write writes one batch: completions in one statement, other outcomes in another.
func (c *completer) write(ctx context.Context, batch []result) error {
	cl := c.d.c
	var done, other []result
	for _, r := range batch {
		switch r.outcome {
		case outcomeComplete:
			done = append(done, r)
		case outcomeNone:
			cl.finished(r, "cancelled")
		default:
			other = append(other, r)
		}
	}
	if len(done) > 0 {
		ids, attempts, project := idsOf(done)
		h := cl.cfg.Hooks
		if !project || (h.StateChangeTxFunc == nil && h.AfterCommitFunc == nil) {
			if _, err := cl.store.JobCompleteManyFast(ctx, db.JobCompleteManyFastParams{Ids: ids, Attempts: attempts}); err != nil {
				return err
			}
		} else {
			_, err := cl.change(ctx, true, func(q db.Querier) ([]db.JobQueue, error) {
				return q.JobCompleteMany(ctx, db.JobCompleteManyParams{Ids: ids, Attempts: attempts})
			})
			if err != nil {
				return err
			}
		}
		for _, r := range done {
			cl.finished(r, "completed")
		}
	}
	if len(other) == 0 {
		return nil
	}
	ids, attempts, project := idsOf(other)
	arg := db.JobFinishManyParams{Ids: ids, Attempts: attempts}
	for _, r := range other {
		arg.Outcomes = append(arg.Outcomes, string(r.outcome))
		arg.RunAts = append(arg.RunAts, r.runAt)
		arg.Errors = append(arg.Errors, r.err)
	}
	if _, err := cl.change(ctx, project, func(q db.Querier) ([]db.JobQueue, error) {
		return q.JobFinishMany(ctx, arg)
	}); err != nil {
		return err
	}
	soonest, due := time.Duration(0), false
	released := false
	for _, r := range other {
		switch r.outcome {
		case outcomeRetry:
			cl.finished(r, "retried")
		case outcomeSnooze:
			cl.finished(r, "snoozed")
		case outcomeRelease:
			cl.finished(r, "released")
			released = true
			continue
		case outcomeFail:
			cl.finished(r, "failed")
			continue
		}
		if wait := time.Until(r.runAt); !due || wait < soonest {
			soonest, due = wait, true
		}
	}
	// A retry due before the next poll: wake up for it rather than wait for the poll.
	if due && soonest < cl.cfg.PollInterval {
		time.AfterFunc(max(soonest, 0), c.d.wake)
	}
	if released {
		cl.notifier().ring("w:" + cl.cfg.WorkerID + ":" + cl.cfg.Queue)
	}
	return nil
}

func idsOf(rs []result) (ids []uuid.UUID, attempts []int32, project bool) {
	ids = make([]uuid.UUID, len(rs))
	attempts = make([]int32, len(rs))
	for i, r := range rs {
		ids[i] = r.job.ID
		attempts[i] = int32(r.job.Attempts)
		project = project || r.job.ProjectID.Valid
	}
	return ids, attempts, project
}

func (c *Client) finished(r result, outcome string) {
	if f := c.cfg.Metrics.JobFinishedFunc; f != nil {
		f(r.job.Kind, outcome, r.elapsed)
	}
}
