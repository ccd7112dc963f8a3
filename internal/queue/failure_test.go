package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

func TestBackoffSpendsAttemptAndRecordsError(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	cfg.RetryBase, cfg.RetryCap = time.Hour, 10*time.Hour
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("flaky", func(ctx context.Context, j *Job) error { return errBoom }, HandlerOptions{})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("flaky")})
	b.expect(t, "retried")
	got := get(t, c, j.ID)
	if got.Status != StatusPending || got.Attempts != 1 || got.LastError != "boom" || got.LockedBy != "" {
		t.Fatalf("job after a failed attempt = %+v", got)
	}
	// First retry waits between RetryBase/2 and RetryBase.
	if wait := got.RunAt.Sub(got.UpdatedAt); wait < 29*time.Minute || wait > 61*time.Minute {
		t.Fatalf("retry scheduled %s after the failure", wait)
	}
	var history []struct {
		Attempt int
		Error   string
	}
	if err := json.Unmarshal(got.Errors, &history); err != nil || len(history) != 1 || history[0].Attempt != 1 || history[0].Error != "boom" {
		t.Fatalf("errors = %s (%v)", got.Errors, err)
	}
}

func TestBackoffDelaysGrowAndAreCapped(t *testing.T) {
	t.Parallel()
	c := &Client{cfg: Config{RetryBase: time.Second, RetryCap: 10 * time.Second}.withDefaults()}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		for range 20 {
			if d := c.backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestRetriesUntilMaxAttemptsThenFails(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("doomed", func(ctx context.Context, j *Job) error {
			return fmt.Errorf("attempt %d failed", j.Attempts)
		}, HandlerOptions{MaxAttempts: 3})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("doomed")})
	b.expect(t, "retried")
	b.expect(t, "retried")
	b.expect(t, "failed")
	got := get(t, c, j.ID)
	if got.Status != StatusFailed || got.Attempts != 3 || got.MaxAttempts != 3 || got.LastError != "attempt 3 failed" || got.CompletedAt == nil {
		t.Fatalf("job = %+v", got)
	}
	// A failed job is kept and can be retried by hand.
	again, err := c.Retry(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != StatusPending || again.Attempts != 0 || again.CompletedAt != nil {
		t.Fatalf("retried job = %+v", again)
	}
	b.expect(t, "retried")
}

func TestSnoozeKeepsAttemptCount(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	calls := make(chan int, 10)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("limited", func(ctx context.Context, j *Job) error {
			calls <- j.Attempts
			switch len(calls) {
			case 1:
				return Snooze(time.Millisecond)
			case 2:
				return fmt.Errorf("wrapped: %w", retryAfterError{time.Millisecond})
			case 3:
				return &classError{retryable: true, spends: false} // DefaultSnooze
			}
			return nil
		}, HandlerOptions{})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("limited")})
	b.expect(t, "snoozed")
	b.expect(t, "snoozed")
	b.expect(t, "snoozed")
	got := get(t, c, j.ID)
	if got.Status != StatusPending || got.Attempts != 0 || got.LastError != "" {
		t.Fatalf("job after three snoozes = %+v", got)
	}
	// run_at is set from the worker's clock when the run ends, updated_at by the server when
	// the batch is written: allow for a slow write.
	if wait := got.RunAt.Sub(got.UpdatedAt); wait < 20*time.Second {
		t.Fatalf("default snooze waits %s", wait)
	}
	for range 3 {
		if a := recv(t, calls); a != 1 {
			t.Fatalf("run saw attempt %d, want 1 every time", a)
		}
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("bad", func(ctx context.Context, j *Job) error {
			return Permanent(fmt.Errorf("the image violates the content policy"))
		}, HandlerOptions{})
		ws.add("auth", func(ctx context.Context, j *Job) error {
			return &classError{retryable: false, spends: true} // like ai.Auth
		}, HandlerOptions{})
		ws.add("panics", func(ctx context.Context, j *Job) error { panic("oops") }, HandlerOptions{MaxAttempts: 1})
	})
	for kind, msg := range map[string]string{"bad": "the image violates the content policy", "auth": "provider said no"} {
		j := enqueue(t, c, EnqueueParams{Args: args(kind)})
		b.expect(t, "failed")
		got := get(t, c, j.ID)
		if got.Status != StatusFailed || got.Attempts != 1 || got.LastError != msg {
			t.Fatalf("%s job = %+v", kind, got)
		}
	}
	j := enqueue(t, c, EnqueueParams{Args: args("panics")})
	b.expect(t, "failed")
	if got := get(t, c, j.ID); got.Status != StatusFailed || len(got.LastError) < 12 || got.LastError[:12] != "panic: oops\n" {
		t.Fatalf("panicking job = %+v", got)
	}
}

func TestTimeoutCountsAsFailedAttempt(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("slow", func(ctx context.Context, j *Job) error {
			<-ctx.Done()
			return ctx.Err()
		}, HandlerOptions{Timeout: time.Millisecond, MaxAttempts: 1})
	})
	j := enqueue(t, c, EnqueueParams{Args: args("slow")})
	b.expect(t, "failed")
	if got := get(t, c, j.ID); got.LastError != "timed out: context deadline exceeded" {
		t.Fatalf("last error %q", got.LastError)
	}
}

// claimAsDeadWorker claims jobs for a worker that then vanishes: its lease is already
// expired.
func claimAsDeadWorker(t *testing.T, q db.Querier, kind string) []db.JobClaimRow {
	t.Helper()
	rows, err := q.JobClaim(context.Background(), db.JobClaimParams{
		Worker: "dead-worker", LeaseSeconds: 0, Queue: "default", MaxUsers: 10,
		Kinds: []string{kind}, ScanLimit: 10, PerUser: 10, KindLimits: []int32{10}, MaxJobs: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExpiredLeaseIsRescuedAndRunAgain(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	api := NewClient(b.db.Store, cfg)
	defer api.Stop(ctx)
	j := enqueue(t, api, EnqueueParams{Args: args("work")})
	if rows := claimAsDeadWorker(t, b.db.Store, "work"); len(rows) != 1 || rows[0].Attempts != 1 {
		t.Fatalf("dead worker claimed %+v", rows)
	}

	cfg.RescueInterval = 5 * time.Millisecond
	ran := make(chan int, 1)
	b.start(t, cfg, func(ws *Workers) {
		ws.add("work", func(ctx context.Context, j *Job) error { ran <- j.Attempts; return nil }, HandlerOptions{})
	})
	if n := recv(t, b.rescued); n != 1 {
		t.Fatalf("rescued %d", n)
	}
	if attempt := recv(t, ran); attempt != 2 {
		t.Fatalf("rerun is attempt %d, want 2", attempt)
	}
	b.expect(t, "completed")
	got := get(t, api, j.ID)
	if got.Status != StatusCompleted || got.Attempts != 2 {
		t.Fatalf("job = %+v", got)
	}
	var history []struct{ Error string }
	if err := json.Unmarshal(got.Errors, &history); err != nil || len(history) != 1 || history[0].Error != "lease expired" {
		t.Fatalf("errors = %s", got.Errors)
	}
}

func TestLateRescueCannotResetCompletedJob(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(ctx)
	j := enqueue(t, c, EnqueueParams{Args: args("work")})
	claimAsDeadWorker(t, b.db.Store, "work")
	// The rescuer reads the expired lease...
	expired, err := b.db.Store.JobListExpired(ctx, 10)
	if err != nil || len(expired) != 1 {
		t.Fatalf("expired = %v, %v", expired, err)
	}
	// ...the slow worker completes after all...
	n, err := b.db.Store.JobCompleteManyFast(ctx, db.JobCompleteManyFastParams{Ids: []uuid.UUID{j.ID}, Attempts: []int32{1}})
	if err != nil || n != 1 {
		t.Fatalf("complete: %d, %v", n, err)
	}
	// ...and the rescue lands late: it must change nothing.
	rows, err := b.db.Store.JobRescueMany(ctx, db.JobRescueManyParams{Ids: []uuid.UUID{expired[0].ID}, Attempts: []int32{expired[0].Attempts}})
	if err != nil || len(rows) != 0 {
		t.Fatalf("late rescue changed %d rows (%v)", len(rows), err)
	}
	if got := get(t, c, j.ID); got.Status != StatusCompleted || got.Attempts != 1 {
		t.Fatalf("job = %+v", got)
	}

	// The other order: rescued first, then the stale worker's completion is ignored,
	// and so is a write-back for the same run after a newer run started.
	j2 := enqueue(t, c, EnqueueParams{Args: args("work2")})
	claimAsDeadWorker(t, b.db.Store, "work2")
	if _, _, _, err := c.maintain(ctx, false); err != nil {
		t.Fatal(err)
	}
	claimAsDeadWorker(t, b.db.Store, "work2") // attempt 2 now runs
	n, err = b.db.Store.JobCompleteManyFast(ctx, db.JobCompleteManyFastParams{Ids: []uuid.UUID{j2.ID}, Attempts: []int32{1}})
	if err != nil || n != 0 {
		t.Fatalf("stale completion wrote %d rows (%v)", n, err)
	}
	if got := get(t, c, j2.ID); got.Status != StatusProcessing || got.Attempts != 2 {
		t.Fatalf("job = %+v", got)
	}
}

func TestRescueFailsJobWithNoAttemptsLeft(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(ctx)
	j := enqueue(t, c, EnqueueParams{Args: args("work"), MaxAttempts: 1})
	claimAsDeadWorker(t, b.db.Store, "work")
	if rescued, _, leader, err := c.maintain(ctx, false); err != nil || !leader || rescued != 1 {
		t.Fatalf("maintain: rescued %d, leader %v, %v", rescued, leader, err)
	}
	if got := get(t, c, j.ID); got.Status != StatusFailed || got.CompletedAt == nil {
		t.Fatalf("job = %+v", got)
	}
}

func TestPruneRemovesOldFinishedJobs(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	cfg.Retention = time.Hour
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(ctx)
	old := enqueue(t, c, EnqueueParams{Args: args("work")})
	recent := enqueue(t, c, EnqueueParams{Args: args("work")})
	pending := enqueue(t, c, EnqueueParams{Args: args("work")})
	for _, id := range []uuid.UUID{old.ID, recent.ID} {
		if _, err := c.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.db.Pool.Exec(ctx, "UPDATE job_queue SET completed_at = now() - interval '2 hours' WHERE id = $1", old.ID); err != nil {
		t.Fatal(err)
	}
	if _, pruned, _, err := c.maintain(ctx, true); err != nil || pruned != 1 {
		t.Fatalf("pruned %d (%v)", pruned, err)
	}
	if _, err := c.Get(ctx, old.ID); err == nil {
		t.Fatal("old job still there")
	}
	get(t, c, recent.ID)
	get(t, c, pending.ID)
}

func TestOnlyOneInstanceMaintainsAtATime(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	c := NewClient(b.db.Store, cfg)
	defer c.Stop(ctx)
	tx, err := b.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if ok, err := db.New(tx).JobTryMaintenanceLock(ctx, maintenanceLockKey); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	if _, _, leader, err := c.maintain(ctx, false); err != nil || leader {
		t.Fatalf("maintained while another instance holds the lock (%v)", err)
	}
}
