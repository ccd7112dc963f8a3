package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

func TestEnqueueClaimComplete(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	got := make(chan string, 1)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("greet", func(ctx context.Context, j *Job) error {
			var p struct{ Name string }
			if err := j.UnmarshalPayload(&p); err != nil {
				return err
			}
			got <- p.Name
			return nil
		}, HandlerOptions{})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("greet", map[string]string{"Name": "world"}), UserID: "alice"})
	if j.Status != StatusPending || j.Attempts != 0 || j.MaxAttempts != 5 {
		t.Fatalf("enqueued job = %+v", j)
	}
	if name := recv(t, got); name != "world" {
		t.Fatalf("handler got %q", name)
	}
	b.expect(t, "completed")
	j = get(t, c, j.ID)
	if j.Status != StatusCompleted || j.Attempts != 1 || j.Percent != 100 || j.CompletedAt == nil || j.StartedAt == nil || j.LockedUntil != nil {
		t.Fatalf("completed job = %+v", j)
	}
}

func TestUniqueKeyReturnsExistingJob(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(context.Background())
	ctx := context.Background()
	first := enqueue(t, c, EnqueueParams{Args: args("pack"), UniqueKey: "project-1/pack"})
	second := enqueue(t, c, EnqueueParams{Args: args("pack"), UniqueKey: "project-1/pack"})
	if second.ID != first.ID || !second.Existing || first.Existing {
		t.Fatalf("second enqueue gave %v (existing %v), want %v", second.ID, second.Existing, first.ID)
	}
	// Through SQL too.
	var sqlID uuid.UUID
	if err := b.db.Pool.QueryRow(ctx, "SELECT (enqueue_job('pack', unique_key => 'project-1/pack')).id").Scan(&sqlID); err != nil {
		t.Fatal(err)
	}
	if sqlID != first.ID {
		t.Fatalf("enqueue_job gave %v, want %v", sqlID, first.ID)
	}
	// Once the holder is finished, the key is free again.
	if _, err := c.Cancel(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	third := enqueue(t, c, EnqueueParams{Args: args("pack"), UniqueKey: "project-1/pack"})
	if third.ID == first.ID || third.Existing {
		t.Fatalf("enqueue after cancel returned the cancelled job")
	}
}

func TestFairnessAcrossUsers(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	cfg.MaxWorkers = 2
	ctx := context.Background()
	started := make(chan *Job, 1000)
	ws := NewWorkers()
	ws.add("work", func(ctx context.Context, j *Job) error {
		started <- j
		return nil
	}, HandlerOptions{})
	cfg.Workers = ws
	// Alice queues 500 jobs before Bob queues one.
	c := NewClient(b.db.Store, cfg)
	alice := make([]EnqueueParams, 500)
	for i := range alice {
		alice[i] = EnqueueParams{Args: args("work"), UserID: "alice"}
	}
	if _, err := c.EnqueueMany(ctx, alice); err != nil {
		t.Fatal(err)
	}
	bob := enqueue(t, c, EnqueueParams{Args: args("work"), UserID: "bob"})

	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	// Bob's job must start before Alice's backlog drains: with two workers, within the
	// first few jobs.
	for i := 1; ; i++ {
		j := recv(t, started)
		if j.ID == bob.ID {
			if i > cfg.MaxWorkers+1 {
				t.Fatalf("bob's job started as number %d", i)
			}
			return
		}
		if i > 500 {
			t.Fatal("alice's queue drained before bob's job started")
		}
	}
}

func TestPriorityFirst(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	cfg.MaxWorkers = 1
	ctx := context.Background()
	started := make(chan uuid.UUID, 10)
	cfg.Workers = NewWorkers()
	cfg.Workers.add("work", func(ctx context.Context, j *Job) error { started <- j.ID; return nil }, HandlerOptions{})
	c := NewClient(b.db.Store, cfg)
	var ps []EnqueueParams
	for range 5 {
		ps = append(ps, EnqueueParams{Args: args("work"), UserID: "u", Priority: 5})
	}
	if _, err := c.EnqueueMany(ctx, ps); err != nil {
		t.Fatal(err)
	}
	urgent := enqueue(t, c, EnqueueParams{Args: args("work"), UserID: "u", Priority: -1})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	if id := recv(t, started); id != urgent.ID {
		t.Fatalf("first job %v, want the urgent one %v", id, urgent.ID)
	}
}

func TestPerKindConcurrency(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	cfg.Workers = NewWorkers()
	cfg.Workers.add("slow", func(ctx context.Context, j *Job) error {
		started <- struct{}{}
		<-release
		return nil
	}, HandlerOptions{Concurrency: 2})
	c := NewClient(b.db.Store, cfg)
	var ps []EnqueueParams
	for range 5 {
		ps = append(ps, EnqueueParams{Args: args("slow")})
	}
	if _, err := c.EnqueueMany(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	recv(t, started)
	recv(t, started)
	// With two running, the claim must leave the other three pending.
	jobs, err := c.List(ctx, ListParams{Status: StatusProcessing})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs processing, want 2", len(jobs))
	}
	close(release)
	for range 5 {
		b.expect(t, "completed")
	}
}

func TestSQLEnqueueIsPickedUp(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	got := make(chan string, 1)
	b.start(t, cfg, func(ws *Workers) {
		ws.add("sql.kind", func(ctx context.Context, j *Job) error { got <- j.UserID; return nil }, HandlerOptions{})
	})
	// The poll is a minute: only enqueue_job's NOTIFY can wake the dispatcher in time.
	if _, err := b.db.Pool.Exec(context.Background(), "SELECT enqueue_job('sql.kind', '{}', 'carol')"); err != nil {
		t.Fatal(err)
	}
	if u := recv(t, got); u != "carol" {
		t.Fatalf("user %q", u)
	}
	b.expect(t, "completed")
}

func TestRemoteEnqueueWakesOtherInstance(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	got := make(chan struct{}, 1)
	b.start(t, cfg, func(ws *Workers) {
		ws.add("remote", func(ctx context.Context, j *Job) error { got <- struct{}{}; return nil }, HandlerOptions{})
	})
	// An API-only instance (never started) enqueues; its NOTIFY wakes the worker.
	api := NewClient(b.db.Store, cfg)
	defer api.Stop(context.Background())
	enqueue(t, api, EnqueueParams{Args: args("remote")})
	recv(t, got)
}

func TestTwoDispatchersRunEachJobOnce(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	const n = 5000
	var runs counter
	handler := func(ctx context.Context, j *Job) error { runs.add(j.ID); return nil }
	cfg.MaxWorkers = 50
	c1 := b.start(t, cfg, func(ws *Workers) { ws.add("work", handler, HandlerOptions{}) })
	b.start(t, cfg, func(ws *Workers) { ws.add("work", handler, HandlerOptions{}) })
	ps := make([]EnqueueParams, n)
	for i := range ps {
		ps[i] = EnqueueParams{Args: args("work"), UserID: []string{"a", "b", "c"}[i%3]}
	}
	if _, err := c1.EnqueueMany(ctx, ps); err != nil {
		t.Fatal(err)
	}
	for range n {
		b.expect(t, "completed")
	}
	runs.mu.Lock()
	defer runs.mu.Unlock()
	if len(runs.n) != n {
		t.Fatalf("%d distinct jobs ran, want %d", len(runs.n), n)
	}
	for id, k := range runs.n {
		if k != 1 {
			t.Fatalf("job %v ran %d times", id, k)
		}
	}
	stats, err := c1.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0].Status != StatusCompleted || stats[0].Count != n {
		t.Fatalf("stats = %+v", stats)
	}
	var maxAttempts int
	if err := b.db.Pool.QueryRow(ctx, "SELECT max(attempts) FROM job_queue").Scan(&maxAttempts); err != nil {
		t.Fatal(err)
	}
	if maxAttempts != 1 {
		t.Fatalf("a job took %d attempts", maxAttempts)
	}
}

func TestCancelRunningJobStopsHandler(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	running := make(chan uuid.UUID, 2)
	causes := make(chan error, 2)
	worker := b.start(t, cfg, func(ws *Workers) {
		ws.add("long", func(ctx context.Context, j *Job) error {
			running <- j.ID
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		}, HandlerOptions{})
	})
	// Cancelled on the instance that runs it.
	j := enqueue(t, worker, EnqueueParams{Args: args("long")})
	recv(t, running)
	if _, err := worker.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if cause := recv(t, causes); !errors.Is(cause, ErrCancelled) {
		t.Fatalf("cause %v", cause)
	}
	b.expect(t, "cancelled") // the Cancel call
	b.expect(t, "cancelled") // the run's outcome: nothing written over the cancel
	if got := get(t, worker, j.ID); got.Status != StatusCancelled || got.CompletedAt == nil {
		t.Fatalf("job = %+v", got)
	}

	// Cancelled from another instance: the doorbell reaches the worker.
	j2 := enqueue(t, worker, EnqueueParams{Args: args("long")})
	recv(t, running)
	other := NewClient(b.db.Store, cfg)
	defer other.Stop(ctx)
	if _, err := other.Cancel(ctx, j2.ID); err != nil {
		t.Fatal(err)
	}
	if cause := recv(t, causes); !errors.Is(cause, ErrCancelled) {
		t.Fatalf("cause %v", cause)
	}
	if _, err := worker.Cancel(ctx, j2.ID); err == nil {
		t.Fatal("cancelling a cancelled job succeeded")
	}
}

func TestGracefulShutdownReleasesUnfinishedJobs(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	running := make(chan struct{}, 2)
	quick := make(chan struct{})
	ws := NewWorkers()
	ws.add("stuck", func(ctx context.Context, j *Job) error {
		running <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}, HandlerOptions{})
	ws.add("quick", func(ctx context.Context, j *Job) error {
		running <- struct{}{}
		<-quick // finishes during the grace period
		return nil
	}, HandlerOptions{})
	cfg.Workers = ws
	c := NewClient(b.db.Store, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stuck := enqueue(t, c, EnqueueParams{Args: args("stuck")})
	done := enqueue(t, c, EnqueueParams{Args: args("quick")})
	recv(t, running)
	recv(t, running)

	grace, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(grace) }()
	close(quick)
	b.expect(t, "completed")
	cancel() // grace over
	if err := recv(t, stopped); err != nil {
		t.Fatal(err)
	}
	got := get(t, c, stuck.ID)
	if got.Status != StatusPending || got.Attempts != 0 || got.LockedBy != "" || got.LastError != "" {
		t.Fatalf("released job = %+v", got)
	}
	if got := get(t, c, done.ID); got.Status != StatusCompleted {
		t.Fatalf("job finished in the grace period is %s", got.Status)
	}
}

func TestProgressAndHooks(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	project, err := b.db.Store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "dora", Name: "mug", Marketplace: "amazon"})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		status  Status
		percent int
	}
	inTx := make(chan seen, 100)
	after := make(chan seen, 100)
	progress := make(chan int, 100)
	cfg.ProgressPersistInterval = time.Hour
	cfg.Hooks = Hooks{
		StateChangeTxFunc: func(ctx context.Context, q db.Querier, jobs []*Job) error {
			for _, j := range jobs {
				// The hook writes in the same transaction as the state change.
				if _, err := q.ProjectSetStatus(ctx, db.ProjectSetStatusParams{ID: j.ProjectID.UUID, Status: "generating"}); err != nil {
					return err
				}
				inTx <- seen{j.Status, j.Percent}
			}
			return nil
		},
		AfterCommitFunc: func(jobs []*Job) {
			for _, j := range jobs {
				after <- seen{j.Status, j.Percent}
			}
		},
		ProgressFunc: func(j *Job, percent int, stage string) { progress <- percent },
	}
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("image.main", func(ctx context.Context, j *Job) error {
			for _, p := range []int{0, 10, 20, 30} {
				j.Progress(p, "generating")
			}
			return nil
		}, HandlerOptions{})
		ws.add("plain", func(ctx context.Context, j *Job) error { j.Progress(50, "x"); return nil }, HandlerOptions{})
	})
	enqueue(t, c, EnqueueParams{Args: args("image.main"), UserID: "dora", ProjectID: uuid.NullUUID{UUID: project.ID, Valid: true}})
	b.expect(t, "completed")
	// Every Progress call reaches the callback.
	for _, want := range []int{0, 10, 20, 30} {
		if got := recv(t, progress); got != want {
			t.Fatalf("progress %d, want %d", got, want)
		}
	}
	// State changes seen in the transaction and after commit: claimed, progress 0
	// (persisted; 10-30 are within the persist interval), completed.
	for _, want := range []seen{{StatusProcessing, 0}, {StatusProcessing, 0}, {StatusCompleted, 100}} {
		if got := recv(t, inTx); got != want {
			t.Fatalf("in tx %+v, want %+v", got, want)
		}
		if got := recv(t, after); got != want {
			t.Fatalf("after commit %+v, want %+v", got, want)
		}
	}
	p, err := b.db.Store.ProjectGet(ctx, project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 4 {
		t.Fatalf("project version %d, want 4 (three hooked changes)", p.Version)
	}
	// A job without a project never reaches the hooks.
	enqueue(t, c, EnqueueParams{Args: args("plain")})
	b.expect(t, "completed")
	if got := recv(t, progress); got != 50 {
		t.Fatalf("progress %d", got)
	}
	select {
	case s := <-inTx:
		t.Fatalf("hook ran for a job without a project: %+v", s)
	default:
	}
}
