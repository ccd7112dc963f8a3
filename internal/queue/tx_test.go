package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

func TestEnqueueTxCommitsWithCallerAndWakeStartsIt(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	ran := make(chan string, 2)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("tx", func(ctx context.Context, j *Job) error { ran <- j.UserID; return nil }, HandlerOptions{})
	})
	// Rolled back with the caller's transaction: never runs.
	rollback := errors.New("rollback")
	err := b.db.Store.InTx(ctx, func(q db.Querier) error {
		if _, err := c.EnqueueTx(ctx, q, EnqueueParams{Args: args("tx"), UserID: "rolled-back"}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	// Committed, then Wake: runs at once (the poll is a minute).
	if err := b.db.Store.InTx(ctx, func(q db.Querier) error {
		_, err := c.EnqueueTx(ctx, q, EnqueueParams{Args: args("tx"), UserID: "committed"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.Wake()
	if u := recv(t, ran); u != "committed" {
		t.Fatalf("ran the job of %q", u)
	}
	b.expect(t, "completed")
	jobs, err := c.List(ctx, ListParams{UserID: "rolled-back"})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("rolled-back job exists: %v %v", jobs, err)
	}
}

func TestPollFindsJobsNobodyAnnounced(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	cfg.PollInterval = 20 * time.Millisecond
	ran := make(chan struct{}, 1)
	b.start(t, cfg, func(ws *Workers) {
		ws.add("quiet", func(ctx context.Context, j *Job) error { ran <- struct{}{}; return nil }, HandlerOptions{})
	})
	if _, err := b.db.Pool.Exec(context.Background(), "SELECT enqueue_job('quiet', notify => false)"); err != nil {
		t.Fatal(err)
	}
	recv(t, ran)
}

func TestHeartbeatStopsHandlerOfJobCancelledBehindItsBack(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	cfg.HeartbeatInterval = 10 * time.Millisecond
	ctx := context.Background()
	running := make(chan struct{}, 1)
	causes := make(chan error, 1)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("long", func(ctx context.Context, j *Job) error {
			running <- struct{}{}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		}, HandlerOptions{})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("long")})
	recv(t, running)
	// An operator cancels in SQL: no doorbell, only the heartbeat can notice.
	if _, err := b.db.Pool.Exec(ctx, "UPDATE job_queue SET status = 'cancelled', completed_at = now() WHERE id = $1", j.ID); err != nil {
		t.Fatal(err)
	}
	if cause := recv(t, causes); !errors.Is(cause, errLeaseLost) {
		t.Fatalf("cause %v", cause)
	}
	b.expect(t, "cancelled")
	if got := get(t, c, j.ID); got.Status != StatusCancelled {
		t.Fatalf("status %s", got.Status)
	}
}

func TestEnqueueManyKeepsEveryField(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(ctx)
	project, err := b.db.Store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "erin", Name: "lamp", Marketplace: "etsy"})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	ids, err := c.EnqueueMany(ctx, []EnqueueParams{
		{Args: args("image.main", map[string]int{"n": 1}), UserID: "erin", ProjectID: uuid.NullUUID{UUID: project.ID, Valid: true},
			Priority: 3, MaxAttempts: 2, RunAt: later},
		{Args: args("image.detail")},
	})
	if err != nil || len(ids) != 2 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	j := get(t, c, ids[0])
	if j.UserID != "erin" || j.ProjectID.UUID != project.ID || string(j.Payload) != `{"n": 1}` ||
		j.Priority != 3 || j.MaxAttempts != 2 || !j.RunAt.Equal(later) || j.Status != StatusPending {
		t.Fatalf("job = %+v", j)
	}
	if j := get(t, c, ids[1]); j.MaxAttempts != 5 || j.UserID != "" || j.ProjectID.Valid {
		t.Fatalf("defaults: %+v", j)
	}
	// Deleting the project deletes its jobs.
	if _, err := b.db.Store.ProjectDelete(ctx, db.ProjectDeleteParams{ID: project.ID, UserID: "erin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, ids[0]); err == nil {
		t.Fatal("the project's job outlived it")
	}
}
