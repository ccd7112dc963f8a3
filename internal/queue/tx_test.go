package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
)

func TestEnqueueTxCommitsWithCallerAndWakeStartsIt(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	ran := make(chan string, 2)
	c := b.start(t, cfg, func(c *Client) {
		c.Register("tx", func(ctx context.Context, j *Job) error { ran <- j.UserID; return nil }, HandlerOptions{})
	})
	// Rolled back with the caller's transaction: never runs.
	rollback := errors.New("rollback")
	err := b.db.Store.InTx(ctx, func(q db.Querier) error {
		if _, err := c.EnqueueTx(ctx, q, EnqueueParams{Kind: "tx", UserID: "rolled-back"}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	// Committed, then Wake: runs at once (the poll is a minute).
	if err := b.db.Store.InTx(ctx, func(q db.Querier) error {
		_, err := c.EnqueueTx(ctx, q, EnqueueParams{Kind: "tx", UserID: "committed"})
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
	b.start(t, cfg, func(c *Client) {
		c.Register("quiet", func(ctx context.Context, j *Job) error { ran <- struct{}{}; return nil }, HandlerOptions{})
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
	c := b.start(t, cfg, func(c *Client) {
		c.Register("long", func(ctx context.Context, j *Job) error {
			running <- struct{}{}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		}, HandlerOptions{})
	})
	j := enqueue(t, c, EnqueueParams{Kind: "long"})
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
