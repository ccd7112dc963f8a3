package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
)

// Client enqueues, inspects and manages jobs, and — once Start is called — runs them with
// the workers it was created with (Config.Workers). One Client per process; it is safe
// for concurrent use.
type Client struct {
	cfg      Config
	store    db.Store
	pool     *pgxpool.Pool
	handlers map[string]handler // from Config.Workers; never changes

	mu   sync.Mutex
	disp *dispatcher // nil until Start

	notifyOnce sync.Once
	notif      *sender

	onListen func() // tests: called each time the listener has (re)subscribed
}

// NewClient returns a Client over store that hears and rings doorbells through
// cfg.Notifier and runs cfg.Workers. It starts no goroutine until the first enqueue (the
// doorbell sender) or Start (the dispatcher). Call Stop when done.
func NewClient(store db.Store, cfg Config) *Client {
	if cfg.Notifier == nil {
		panic("queue: Config.Notifier is required")
	}
	c := &Client{
		cfg:      cfg.withDefaults(),
		store:    store,
		pool:     store.Pool(),
		handlers: map[string]handler{},
	}
	if cfg.Workers != nil {
		for k, h := range cfg.Workers.handlers {
			c.handlers[k] = h
		}
	}
	return c
}

// WorkerID returns the name this instance writes into locked_by.
func (c *Client) WorkerID() string { return c.cfg.WorkerID }

// EnqueueParams describe a job to enqueue. Args is required.
type EnqueueParams struct {
	// Args are the job's typed arguments: Args.Kind() selects the worker, e.g.
	// "image.main", and Args marshalled to JSON is the payload.
	Args JobArgs
	// Queue defaults to the Client's Config.Queue.
	Queue string
	// UserID is the owner; the claim is fair across owners. Empty is allowed (one
	// anonymous owner).
	UserID string
	// ProjectID links the job to a project: its state changes reach Hooks, and deleting
	// the project deletes the job.
	ProjectID uuid.NullUUID
	// Priority orders jobs: lower runs first. Defaults to 0.
	Priority int
	// MaxAttempts defaults to the kind's HandlerOptions.MaxAttempts, then
	// Config.DefaultMaxAttempts.
	MaxAttempts int
	// RunAt schedules the job; zero means now.
	RunAt time.Time
	// UniqueKey, when set, makes the enqueue idempotent: while an unfinished (pending or
	// processing) job holds the key, that job is returned, with Existing set.
	UniqueKey string
}

func (c *Client) insertParams(p EnqueueParams) (db.JobInsertParams, error) {
	if p.Args == nil || p.Args.Kind() == "" {
		return db.JobInsertParams{}, apperr.Invalid("job kind is required", map[string]string{"kind": "required"})
	}
	kind := p.Args.Kind()
	payload, err := json.Marshal(p.Args)
	if err != nil {
		return db.JobInsertParams{}, fmt.Errorf("marshal %s payload: %w", kind, err)
	}
	if len(payload) == 0 || string(payload) == "null" {
		payload = []byte("{}")
	}
	queue := p.Queue
	if queue == "" {
		queue = c.cfg.Queue
	}
	maxAttempts := p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = c.handlers[kind].opts.MaxAttempts
	}
	if maxAttempts <= 0 {
		maxAttempts = c.cfg.DefaultMaxAttempts
	}
	arg := db.JobInsertParams{
		ID:          uuid.Must(uuid.NewV7()),
		Kind:        kind,
		Queue:       queue,
		UserID:      p.UserID,
		ProjectID:   p.ProjectID,
		Payload:     payload,
		Priority:    int32(p.Priority),
		MaxAttempts: int32(maxAttempts),
		UniqueKey:   pgtype.Text{String: p.UniqueKey, Valid: p.UniqueKey != ""},
	}
	if !p.RunAt.IsZero() {
		runAt := p.RunAt
		arg.RunAt = &runAt
	}
	return arg, nil
}

// Enqueue inserts one job and wakes a dispatcher: this instance's at once through
// memory, others through one debounced NOTIFY sent outside the insert's transaction.
func (c *Client) Enqueue(ctx context.Context, p EnqueueParams) (*Job, error) {
	job, err := c.EnqueueTx(ctx, c.store, p)
	if err != nil {
		return nil, err
	}
	if !job.Existing {
		c.Wake()
	}
	return job, nil
}

// EnqueueTx inserts one job with q, typically the Querier of the caller's transaction
// (db.Store.InTx), so the job exists exactly when the caller's other writes commit. It
// does not wake anyone: call Wake after the commit (until then no dispatcher can see the
// job; without Wake the poll finds it within Config.PollInterval).
func (c *Client) EnqueueTx(ctx context.Context, q db.Querier, p EnqueueParams) (*Job, error) {
	arg, err := c.insertParams(p)
	if err != nil {
		return nil, err
	}
	for range 5 {
		rows, err := q.JobInsert(ctx, arg)
		if err != nil {
			return nil, fmt.Errorf("enqueue %s: %w", arg.Kind, err)
		}
		if len(rows) == 1 {
			return jobFromRow(rows[0]), nil
		}
		row, err := q.JobGetByUniqueKey(ctx, arg.UniqueKey)
		if db.IsNotFound(err) {
			continue // the holder finished between the two statements
		}
		if err != nil {
			return nil, fmt.Errorf("enqueue %s: read job holding unique key: %w", arg.Kind, err)
		}
		j := jobFromRow(row)
		j.Existing = true
		return j, nil
	}
	return nil, fmt.Errorf("enqueue %s: unique key %q keeps changing hands", arg.Kind, p.UniqueKey)
}

// copyColumns are the job_queue columns EnqueueMany copies.
var copyColumns = []string{"id", "kind", "queue", "user_id", "project_id", "payload",
	"priority", "max_attempts", "run_at"}

// EnqueueMany inserts many jobs with one COPY and wakes dispatchers once; it returns
// their ids in order. Jobs with a UniqueKey are inserted one by one in one transaction
// instead (COPY cannot skip conflicts), and a duplicate's id is the existing job's.
func (c *Client) EnqueueMany(ctx context.Context, ps []EnqueueParams) ([]uuid.UUID, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	args := make([]db.JobInsertParams, len(ps))
	unique := false
	for i, p := range ps {
		a, err := c.insertParams(p)
		if err != nil {
			return nil, err
		}
		args[i] = a
		unique = unique || p.UniqueKey != ""
	}
	ids := make([]uuid.UUID, len(ps))
	if unique {
		err := c.store.InTx(ctx, func(q db.Querier) error {
			for i, p := range ps {
				j, err := c.EnqueueTx(ctx, q, p)
				if err != nil {
					return err
				}
				ids[i] = j.ID
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		c.Wake()
		return ids, nil
	}
	now := time.Now()
	rows := make([][]any, len(args))
	for i, a := range args {
		runAt := now
		if a.RunAt != nil {
			runAt = *a.RunAt
		}
		ids[i] = a.ID
		rows[i] = []any{a.ID, a.Kind, a.Queue, a.UserID, a.ProjectID, a.Payload,
			a.Priority, a.MaxAttempts, runAt}
	}
	// COPY is not expressible in sqlc; the column list above is the contract.
	if _, err := c.pool.CopyFrom(ctx, pgx.Identifier{"job_queue"}, copyColumns, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("enqueue %d jobs: %w", len(ps), err)
	}
	c.Wake()
	return ids, nil
}

// Wake tells dispatchers that new work may be runnable: this instance's at once, others
// through the debounced NOTIFY. Call it after committing a transaction that used
// EnqueueTx. It never blocks.
func (c *Client) Wake() {
	c.mu.Lock()
	d := c.disp
	c.mu.Unlock()
	if d != nil {
		d.wake()
	}
	c.notifier().ring("w:" + c.cfg.WorkerID + ":" + c.cfg.Queue)
}

// Get returns a job by id, whoever owns it (callers check UserID). It returns an
// apperr ENOTFOUND error when there is no such job.
func (c *Client) Get(ctx context.Context, id uuid.UUID) (*Job, error) {
	row, err := c.store.JobGet(ctx, id)
	if db.IsNotFound(err) {
		return nil, apperr.NotFound("job")
	}
	if err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	return jobFromRow(row), nil
}

// ListParams filter List; zero fields do not filter.
type ListParams struct {
	UserID    string
	ProjectID uuid.NullUUID
	Status    Status
	Kind      string
	// Limit caps the answer. Defaults to 100; at most 1,000.
	Limit int
}

// List returns jobs newest first.
func (c *Client) List(ctx context.Context, p ListParams) ([]*Job, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	text := func(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }
	rows, err := c.store.JobList(ctx, db.JobListParams{
		UserID:    text(p.UserID),
		ProjectID: p.ProjectID,
		Status:    text(string(p.Status)),
		Kind:      text(p.Kind),
		RowLimit:  int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobsFromRows(rows), nil
}

// Cancel cancels a pending or running job and returns it. A running handler's context
// is cancelled (cause ErrCancelled) on whichever instance runs it: at once here, through
// NOTIFY elsewhere, at the latest at its next heartbeat. It returns ENOTFOUND for an
// unknown job and ECONFLICT for a finished one.
func (c *Client) Cancel(ctx context.Context, id uuid.UUID) (*Job, error) {
	jobs, err := c.change(ctx, true, func(q db.Querier) ([]db.JobQueue, error) {
		return q.JobCancel(ctx, id)
	})
	if err != nil {
		return nil, fmt.Errorf("cancel job: %w", err)
	}
	if len(jobs) == 0 {
		j, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, apperr.Errorf(apperr.ECONFLICT, "job is already %s", j.Status)
	}
	c.mu.Lock()
	d := c.disp
	c.mu.Unlock()
	if d == nil || !d.cancelLocal(id) {
		c.notifier().ring("c:" + c.cfg.WorkerID + ":" + id.String())
	}
	if c.cfg.Metrics.JobFinishedFunc != nil {
		c.cfg.Metrics.JobFinishedFunc(jobs[0].Kind, "cancelled", 0)
	}
	return jobs[0], nil
}

// Retry puts a failed or cancelled job back to pending with a fresh set of attempts and
// returns it. It returns ENOTFOUND for an unknown job and ECONFLICT for one that is
// pending, running or completed (or whose unique key another unfinished job now holds).
func (c *Client) Retry(ctx context.Context, id uuid.UUID) (*Job, error) {
	jobs, err := c.change(ctx, true, func(q db.Querier) ([]db.JobQueue, error) {
		return q.JobRetry(ctx, id)
	})
	if db.IsUniqueViolation(err) {
		return nil, apperr.Errorf(apperr.ECONFLICT, "another unfinished job holds this job's unique key")
	}
	if err != nil {
		return nil, fmt.Errorf("retry job: %w", err)
	}
	if len(jobs) == 0 {
		j, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, apperr.Errorf(apperr.ECONFLICT, "job is %s; only failed or cancelled jobs can be retried", j.Status)
	}
	c.Wake()
	return jobs[0], nil
}

// RetryTx is Retry inside the caller's transaction q, so a check in the same transaction
// (the AI spend limits) decides whether the retry commits. Like EnqueueTx it runs no
// hooks and wakes nobody: the caller runs its state-change work in q and calls Wake after
// the commit. Errors as for Retry; after an error the transaction must be rolled back.
func (c *Client) RetryTx(ctx context.Context, q db.Querier, id uuid.UUID) (*Job, error) {
	rows, err := q.JobRetry(ctx, id)
	if db.IsUniqueViolation(err) {
		return nil, apperr.Errorf(apperr.ECONFLICT, "another unfinished job holds this job's unique key")
	}
	if err != nil {
		return nil, fmt.Errorf("retry job: %w", err)
	}
	if len(rows) == 0 {
		row, err := q.JobGet(ctx, id)
		if db.IsNotFound(err) {
			return nil, apperr.NotFound("job")
		}
		if err != nil {
			return nil, fmt.Errorf("read job: %w", err)
		}
		return nil, apperr.Errorf(apperr.ECONFLICT, "job is %s; only failed or cancelled jobs can be retried", row.Status)
	}
	return jobFromRow(rows[0]), nil
}

// StatusStat is one line of Stats.
type StatusStat struct {
	Status Status `json:"status"`
	Count  int64  `json:"count"`
	// AvgDurationSeconds is the mean time from enqueue to finish; nil for statuses
	// without a completed_at.
	AvgDurationSeconds *float64 `json:"avgDurationSeconds"`
}

// Stats returns the number of jobs per status and their mean time from enqueue to
// finish: the operators' summary query.
func (c *Client) Stats(ctx context.Context) ([]StatusStat, error) {
	rows, err := c.store.JobStats(ctx)
	if err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	out := make([]StatusStat, len(rows))
	for i, r := range rows {
		out[i] = StatusStat{Status: Status(r.Status), Count: r.Count}
		if r.Finished > 0 {
			v := r.AvgDurationSeconds
			out[i].AvgDurationSeconds = &v
		}
	}
	return out, nil
}

// DepthStat is one line of Depth.
type DepthStat struct {
	Status Status
	Kind   string
	Count  int64
	// OldestPendingAge is how long the oldest runnable pending job of this kind has been
	// runnable (zero for other statuses or when none is runnable).
	OldestPendingAge time.Duration
}

// Depth counts jobs per status and kind, with the age of the oldest runnable pending job,
// for metrics gauges. It scans the table: call it on scrape, not per job.
func (c *Client) Depth(ctx context.Context) ([]DepthStat, error) {
	rows, err := c.store.JobDepth(ctx)
	if err != nil {
		return nil, fmt.Errorf("job depth: %w", err)
	}
	out := make([]DepthStat, len(rows))
	for i, r := range rows {
		out[i] = DepthStat{Status: Status(r.Status), Kind: r.Kind, Count: r.Count,
			OldestPendingAge: time.Duration(max(r.OldestRunnableSeconds, 0) * float64(time.Second))}
	}
	return out, nil
}

// change runs fn, a statement that changes job states and returns the changed rows, with
// the hooks: when a StateChangeTxFunc is set and the rows may include project jobs, fn and
// the hook share one transaction; AfterCommitFunc then gets the project jobs. Without
// project jobs nothing but fn runs.
func (c *Client) change(ctx context.Context, mayHaveProject bool, fn func(q db.Querier) ([]db.JobQueue, error)) ([]*Job, error) {
	h := c.cfg.Hooks
	if h.StateChangeTxFunc == nil || !mayHaveProject {
		rows, err := fn(c.store)
		if err != nil {
			return nil, err
		}
		jobs := jobsFromRows(rows)
		c.afterCommit(jobs)
		return jobs, nil
	}
	var jobs []*Job
	err := c.store.InTx(ctx, func(q db.Querier) error {
		rows, err := fn(q)
		if err != nil {
			return err
		}
		jobs = jobsFromRows(rows)
		return c.runTxHook(ctx, q, withProject(jobs))
	})
	if err != nil {
		return nil, err
	}
	c.afterCommit(jobs)
	return jobs, nil
}

// runTxHook runs the StateChangeTxFunc for project jobs in a savepoint of q's
// transaction: a failing hook is logged and undone, the state change stays.
func (c *Client) runTxHook(ctx context.Context, q db.Querier, jobs []*Job) error {
	if len(jobs) == 0 || c.cfg.Hooks.StateChangeTxFunc == nil {
		return nil
	}
	var hookErr error
	err := db.Savepoint(ctx, q, func(sp db.Querier) error {
		hookErr = c.cfg.Hooks.StateChangeTxFunc(ctx, sp, jobs)
		return hookErr
	})
	if hookErr != nil && err == hookErr {
		c.cfg.Logger.Error("queue state-change hook failed; job states kept", "err", err, "jobs", len(jobs))
		return nil
	}
	return err
}

func (c *Client) afterCommit(jobs []*Job) {
	if c.cfg.Hooks.AfterCommitFunc == nil {
		return
	}
	if p := withProject(jobs); len(p) > 0 {
		c.cfg.Hooks.AfterCommitFunc(p)
	}
}

func withProject(jobs []*Job) []*Job {
	n := 0
	for _, j := range jobs {
		if j.ProjectID.Valid {
			n++
		}
	}
	if n == len(jobs) {
		return jobs
	}
	out := make([]*Job, 0, n)
	for _, j := range jobs {
		if j.ProjectID.Valid {
			out = append(out, j)
		}
	}
	return out
}
