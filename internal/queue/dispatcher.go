package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

// dispatcher claims jobs into free worker slots and runs them. It never claims more jobs
// than it has free slots, so a claimed job starts at once and its lease is honest.
type dispatcher struct {
	c        *Client
	handlers map[string]handler
	kinds    []string

	wakeCh    chan struct{} // new work may be runnable
	slotCh    chan struct{} // a slot became free
	stopClaim chan struct{}
	claimOnce sync.Once   // closes stopClaim
	stopping  atomic.Bool // stop has begun
	loopDone  chan struct{}

	hardCtx    context.Context // parent of every handler context
	hardCancel context.CancelCauseFunc
	bgCtx      context.Context // heartbeat, maintenance
	bgCancel   context.CancelFunc
	unlisten   func()
	bgWG       sync.WaitGroup
	handlersWG sync.WaitGroup

	mu          sync.Mutex
	running     map[uuid.UUID]*Job
	kindRunning map[string]int

	// served remembers, per user, the sequence number of the last job this worker
	// started for them (claim loop only), so ties in the claim go to the user served
	// least recently.
	served    map[string]int64
	servedSeq int64

	comp *completer
}

// Start starts dispatching and returns once the loops run: the claim loop, the heartbeat,
// the doorbells heard through Config.Notifier and the maintenance loop (rescue, prune; it
// runs on whichever instance wins an advisory lock). It claims only the kinds of
// Config.Workers (with none, it claims nothing). The loops outlive ctx, which bounds only
// the start; Stop stops them. Starting twice is an error.
func (c *Client) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disp != nil {
		return errors.New("queue: already started")
	}
	d := &dispatcher{
		c:           c,
		handlers:    c.handlers,
		wakeCh:      make(chan struct{}, 1),
		slotCh:      make(chan struct{}, 1),
		stopClaim:   make(chan struct{}),
		loopDone:    make(chan struct{}),
		running:     map[uuid.UUID]*Job{},
		kindRunning: map[string]int{},
		served:      map[string]int64{},
	}
	for k := range c.handlers {
		d.kinds = append(d.kinds, k)
	}
	sort.Strings(d.kinds)
	d.hardCtx, d.hardCancel = context.WithCancelCause(context.Background())
	d.bgCtx, d.bgCancel = context.WithCancel(context.Background())
	d.comp = newCompleter(d)
	c.disp = d
	c.notifier() // so Stop can always close it

	d.unlisten = d.listen()
	d.bgWG.Add(2)
	go func() { defer d.bgWG.Done(); d.heartbeatLoop(d.bgCtx) }()
	go func() { defer d.bgWG.Done(); d.maintenanceLoop(d.bgCtx) }()
	go d.claimLoop()
	return nil
}

// Stop shuts the client down gracefully: it stops claiming, lets running jobs finish
// until ctx ends (the grace period), then cancels the rest (cause ErrShutdown) and
// releases them back to pending without spending an attempt, writes every outcome, and
// stops listening, the heartbeat, maintenance and the doorbell sender. Safe to call
// without Start. It does not stop Config.Notifier, which its owner stops afterwards.
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	d := c.disp
	c.mu.Unlock()
	var err error
	if d != nil {
		err = d.stop(ctx)
	}
	if c.notif != nil {
		c.notif.close()
	}
	return err
}

// Quiesce stops claiming new jobs; running jobs go on, and Stop waits for them.
// Shutdown calls it first, so that no job is claimed while the rest of the process
// drains. It is safe to call more than once, and a no-op before Start.
func (c *Client) Quiesce() {
	c.mu.Lock()
	d := c.disp
	c.mu.Unlock()
	if d != nil {
		d.claimOnce.Do(func() { close(d.stopClaim) })
	}
}

func (d *dispatcher) stop(ctx context.Context) error {
	if !d.stopping.CompareAndSwap(false, true) {
		return nil // already stopped
	}
	d.claimOnce.Do(func() { close(d.stopClaim) })
	<-d.loopDone

	done := make(chan struct{})
	go func() { d.handlersWG.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		// Grace is over: cancel what still runs; their results become releases.
		d.hardCancel(ErrShutdown)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// Handlers that ignore their context: release their jobs now; whatever
			// they return later is dropped (the completer is closed).
			err = d.releaseStuck()
		}
	}
	d.comp.close()
	d.unlisten()
	d.bgCancel()
	d.bgWG.Wait()
	d.hardCancel(ErrShutdown)
	return err
}

// releaseStuck releases the jobs of handlers that did not return after cancellation.
func (d *dispatcher) releaseStuck() error {
	d.mu.Lock()
	var res []result
	for id, j := range d.running {
		res = append(res, result{job: j, outcome: outcomeRelease, runAt: time.Now()})
		delete(d.running, id)
	}
	d.mu.Unlock()
	if len(res) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.comp.write(ctx, res); err != nil {
		return fmt.Errorf("release %d stuck jobs: %w", len(res), err)
	}
	return nil
}

func (d *dispatcher) wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// claimLoop claims whenever there are free slots and reason to believe there is work:
// a wake-up, the poll, or a previous claim that filled every slot it asked for.
func (d *dispatcher) claimLoop() {
	defer close(d.loopDone)
	poll := time.NewTimer(jitter(d.c.cfg.PollInterval))
	defer poll.Stop()
	more := true     // there may be runnable jobs
	blocked := false // a kind limit held back jobs: a freed slot may unblock them
	backoff := time.Duration(0)
	for {
		if more && backoff == 0 {
			free, kinds, limits := d.freeSlots()
			if free > 0 {
				n, candidates, err := d.claim(free, kinds, limits)
				if err != nil {
					d.c.cfg.Logger.Error("queue claim failed", "err", err)
					backoff = 100 * time.Millisecond
					more = false
				} else {
					// A full claim may have left more; so may one that found some of
					// its candidates locked by another instance. Otherwise the queue
					// is drained until a wake-up, the poll, or a freed kind slot.
					more = n == free || candidates > n
					blocked = len(kinds) < len(d.kinds) || anyBelow(limits, free)
				}
				continue
			}
		}
		var retry <-chan time.Time
		if backoff > 0 {
			retry = time.After(backoff)
		}
		select {
		case <-d.wakeCh:
			more = true
		case <-d.slotCh:
			more = more || blocked
		case <-poll.C:
			more = true
			poll.Reset(jitter(d.c.cfg.PollInterval))
		case <-retry:
			backoff, more = 0, true
		case <-d.stopClaim:
			return
		}
		select {
		case <-d.stopClaim:
			return
		default:
		}
	}
}

func anyBelow(limits []int32, free int) bool {
	for _, l := range limits {
		if int(l) < free {
			return true
		}
	}
	return false
}

// freeSlots returns the free slots and, per kind with room, how many of it may be claimed.
func (d *dispatcher) freeSlots() (int, []string, []int32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	free := d.c.cfg.MaxWorkers - len(d.running)
	if free <= 0 {
		return 0, nil, nil
	}
	kinds := make([]string, 0, len(d.kinds))
	limits := make([]int32, 0, len(d.kinds))
	for _, k := range d.kinds {
		l := free
		if cc := d.handlers[k].opts.Concurrency; cc > 0 {
			l = min(l, cc-d.kindRunning[k])
		}
		if l > 0 {
			kinds = append(kinds, k)
			limits = append(limits, int32(l))
		}
	}
	if len(kinds) == 0 {
		return 0, nil, nil
	}
	return free, kinds, limits
}

// claim claims up to free jobs and starts them; it returns how many it got and how many
// candidates the claim picked before locking.
func (d *dispatcher) claim(free int, kinds []string, limits []int32) (n, candidates int, err error) {
	ctx, cancel := context.WithTimeout(d.bgCtx, 30*time.Second)
	defer cancel()
	users, seqs := d.servedArrays()
	arg := db.JobClaimParams{
		ServedUsers:  users,
		ServedSeqs:   seqs,
		Worker:       d.c.cfg.WorkerID,
		LeaseSeconds: d.c.cfg.LeaseDuration.Seconds(),
		Queue:        d.c.cfg.Queue,
		MaxUsers:     100,
		Kinds:        kinds,
		ScanLimit:    int32(free + free/4 + 16),
		PerUser:      int32(min(free, 4)),
		KindLimits:   limits,
		MaxJobs:      int32(free),
	}
	jobs, err := d.c.change(ctx, true, func(q db.Querier) ([]db.JobQueue, error) {
		rows, err := q.JobClaim(ctx, arg)
		out := make([]db.JobQueue, len(rows))
		for i, r := range rows {
			out[i] = claimedRow(r)
			candidates = int(r.Candidates)
		}
		return out, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("claim jobs: %w", err)
	}
	now := time.Now()
	for _, j := range jobs {
		d.servedSeq++
		d.served[j.UserID] = d.servedSeq
		d.start(j, now)
	}
	return len(jobs), candidates, nil
}

// claimedRow drops the claim's extra column.
func claimedRow(r db.JobClaimRow) db.JobQueue {
	return db.JobQueue{
		ID: r.ID, Kind: r.Kind, Queue: r.Queue, UserID: r.UserID, ProjectID: r.ProjectID,
		Payload: r.Payload, Status: r.Status, Priority: r.Priority, Attempts: r.Attempts,
		MaxAttempts: r.MaxAttempts, RunAt: r.RunAt, LockedBy: r.LockedBy,
		LockedUntil: r.LockedUntil, Progress: r.Progress, ProgressStage: r.ProgressStage,
		LastError: r.LastError, Errors: r.Errors, UniqueKey: r.UniqueKey,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		UpdatedAt: r.UpdatedAt,
	}
}

// maxServed bounds the served memory; the least recently served users are forgotten
// first (they then count as never served, which is where they were heading anyway).
const maxServed = 1000

// servedArrays returns the served memory as the claim's parameters, trimming it first.
func (d *dispatcher) servedArrays() ([]string, []int64) {
	if len(d.served) > maxServed {
		cut := d.servedSeq - maxServed
		for u, s := range d.served {
			if s <= cut {
				delete(d.served, u)
			}
		}
	}
	users := make([]string, 0, len(d.served))
	seqs := make([]int64, 0, len(d.served))
	for u, s := range d.served {
		users = append(users, u)
		seqs = append(seqs, s)
	}
	return users, seqs
}

// start runs one claimed job in its own goroutine.
func (d *dispatcher) start(j *Job, now time.Time) {
	h := d.handlers[j.Kind]
	ctx, cancel := context.WithCancelCause(d.hardCtx)
	j.run = &run{d: d, cancel: cancel}
	d.mu.Lock()
	d.running[j.ID] = j
	d.kindRunning[j.Kind]++
	d.mu.Unlock()
	if f := d.c.cfg.Metrics.JobStartedFunc; f != nil {
		ready := j.RunAt
		if j.CreatedAt.After(ready) {
			ready = j.CreatedAt
		}
		f(j.Kind, max(now.Sub(ready), 0))
	}
	d.handlersWG.Add(1)
	go d.execute(ctx, j, h)
}

func (d *dispatcher) execute(runCtx context.Context, j *Job, h handler) {
	defer d.handlersWG.Done()
	timeout := h.opts.Timeout
	if timeout <= 0 {
		timeout = d.c.cfg.DefaultTimeout
	}
	ctx, cancelTimeout := context.WithTimeout(runCtx, timeout)
	began := time.Now()
	err := callHandler(ctx, h.fn, j)
	elapsed := time.Since(began)
	cancelTimeout()
	cause := context.Cause(runCtx)
	j.run.cancel(nil)

	d.mu.Lock()
	_, mine := d.running[j.ID]
	delete(d.running, j.ID)
	d.kindRunning[j.Kind]--
	d.mu.Unlock()
	select {
	case d.slotCh <- struct{}{}:
	default:
	}
	if !mine {
		return // released by releaseStuck
	}

	r := result{job: j, elapsed: elapsed}
	switch {
	case errors.Is(cause, ErrCancelled) || errors.Is(cause, errLeaseLost):
		r.outcome = outcomeNone
	case err == nil:
		r.outcome = outcomeComplete
	case errors.Is(cause, ErrShutdown):
		r.outcome, r.runAt = outcomeRelease, time.Now()
	default:
		var delay time.Duration
		r.outcome, delay = d.c.classify(err, j.Attempts, j.MaxAttempts)
		r.runAt = time.Now().Add(delay)
		r.err = errorMessage(err)
	}
	d.comp.add(r)
}

// callHandler runs fn, turning a panic into an error.
func callHandler(ctx context.Context, fn func(context.Context, *Job) error, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx, j)
}

// cancelLocal cancels the handler of a job running here; it reports whether one was.
func (d *dispatcher) cancelLocal(id uuid.UUID) bool {
	d.mu.Lock()
	j, ok := d.running[id]
	d.mu.Unlock()
	if ok {
		j.run.cancel(ErrCancelled)
	}
	return ok
}

// heartbeatMinTimeout is the least time one heartbeat statement is given.
const heartbeatMinTimeout = 2 * time.Second

// heartbeatLoop extends the leases of running jobs and stops the handlers of runs that
// are no longer ours (cancelled, or rescued after a long stall).
func (d *dispatcher) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(d.c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		ids := make([]uuid.UUID, 0, len(d.running))
		attempts := make([]int32, 0, len(d.running))
		for id, j := range d.running {
			ids = append(ids, id)
			attempts = append(attempts, int32(j.Attempts))
		}
		d.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		// The statement may take longer than one tick on a loaded machine (or with a very
		// short interval): cutting it off at the tick would fail every heartbeat and let
		// the leases lapse. A late heartbeat only delays the next tick.
		hctx, cancel := context.WithTimeout(ctx, max(d.c.cfg.HeartbeatInterval, heartbeatMinTimeout))
		alive, err := d.c.store.JobHeartbeat(hctx, db.JobHeartbeatParams{
			LeaseSeconds: d.c.cfg.LeaseDuration.Seconds(),
			Ids:          ids,
			Attempts:     attempts,
			Worker:       d.c.cfg.WorkerID,
		})
		cancel()
		if err != nil {
			d.c.cfg.Logger.Warn("queue heartbeat failed", "err", err, "jobs", len(ids))
			continue
		}
		ok := make(map[uuid.UUID]bool, len(alive))
		for _, id := range alive {
			ok[id] = true
		}
		d.mu.Lock()
		for _, id := range ids {
			if j, running := d.running[id]; running && !ok[id] {
				j.run.cancel(errLeaseLost)
			}
		}
		d.mu.Unlock()
	}
}

// progress implements Job.Progress for a running job.
func (r *run) progress(j *Job, percent int, stage string) {
	if f := r.d.c.cfg.Hooks.ProgressFunc; f != nil {
		f(j, percent, stage)
	}
	now := time.Now()
	r.mu.Lock()
	due := percent == 0 || percent == 100 || now.Sub(r.lastPersist) >= r.d.c.cfg.ProgressPersistInterval
	if due {
		r.lastPersist = now
	}
	r.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := r.d.c.change(ctx, j.ProjectID.Valid, func(q db.Querier) ([]db.JobQueue, error) {
		return q.JobSetProgress(ctx, db.JobSetProgressParams{
			Progress: int32(percent),
			Stage:    stage,
			ID:       j.ID,
			Attempt:  int32(j.Attempts),
		})
	})
	if err != nil {
		r.d.c.cfg.Logger.Warn("queue progress write failed", "err", err, "job", j.ID)
	}
}
