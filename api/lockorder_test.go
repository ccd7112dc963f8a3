package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/pack"
)

// lockProject opens a transaction holding the project's row lock, as a request that
// records or enqueues for it holds it. The caller ends it with Rollback.
func lockProject(t *testing.T, b *testBundle, id string) pgx.Tx {
	t.Helper()
	tx, err := b.db.Pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return tx
}

// awaitLockWaiter returns once another session of the test's database waits for a lock
// (here: the project lock tx holds). It polls the server's own view, without sleeping.
// check, when set, is called on each round and may end the test (the call under test
// ended without waiting).
func awaitLockWaiter(t *testing.T, tx pgx.Tx, check func()) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a safety net, not a timing assertion
	for time.Now().Before(deadline) {
		if check != nil {
			check()
		}
		var n int
		// pg_stat_clear_snapshot: a transaction otherwise keeps seeing its first view.
		if _, err := tx.Exec(context.Background(), `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		err := tx.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("nothing ever waited for the project lock")
}

// tryLockRow takes the row lock of sql's row in a savepoint without waiting, and reports
// whether it was free.
func tryLockRow(t *testing.T, tx pgx.Tx, sql string, args ...any) bool {
	t.Helper()
	ctx := context.Background()
	if _, err := tx.Exec(ctx, "SAVEPOINT try"); err != nil {
		t.Fatal(err)
	}
	_, err := tx.Exec(ctx, sql+" FOR UPDATE NOWAIT", args...)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT try"); err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// Recording a remove.bg cut-out takes the project's lock before the user's spend row, in
// the order record and an enqueue take them: while another transaction holds the project
// (and would go on to add to the spend, as record does), the cut-out's transaction holds
// nothing that transaction needs. Before, it had already updated the spend row: the two
// deadlocked, and the paid cut-out could be lost and paid again.
func TestRecordingACutOutLocksTheProjectFirst(t *testing.T) {
	t.Parallel()
	removebg := aitest.NewRemoveBG(t)
	called := make(chan struct{})
	resume := make(chan struct{})
	removebg.Script(func(c aitest.Call) aitest.Response {
		if c.N == 1 {
			close(called)
			<-resume
		}
		return aitest.Success()
	})
	b := setup(t, setupOptions{
		providers: ai.NewProviders(ai.Config{RemoveBGAPIKey: removebg.Key(), RemoveBGBaseURL: removebg.URL()}),
	})
	tok := token(t, "pia", "authenticated")
	s := readyProject(t, b, tok)
	id := s.ID.String()
	// pia has spent today already: her spend row exists.
	if _, err := b.db.Pool.Exec(context.Background(),
		`INSERT INTO ai_spend_days (user_id, day, spent_usd) VALUES ('pia', (now() AT TIME ZONE 'UTC')::date, 0.01)`); err != nil {
		t.Fatal(err)
	}

	b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "main"}).decode(t, new(pack.Jobs))
	<-called
	tx := lockProject(t, b, id)
	defer func() { _ = tx.Rollback(context.Background()) }()
	close(resume)
	awaitLockWaiter(t, tx, nil)
	if !tryLockRow(t, tx, `SELECT 1 FROM ai_spend_days WHERE user_id = 'pia'`) {
		t.Error("the cut-out's transaction holds pia's spend row while it waits for the project; want the project locked first")
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, tok, id, func(s pack.Snapshot) bool {
		for _, sl := range s.Images {
			if sl.Type == "main" && sl.Status == "completed" {
				return true
			}
		}
		return false
	})
	if n := removebg.Count(); n != 1 {
		t.Errorf("remove.bg got %d calls; want 1", n)
	}
}

// job.retry takes the project's lock before the job's row, in the order an enqueue
// takes them (the project, then the job row or its unique index entry): while another
// transaction holds the project, the retry holds nothing an enqueue for that project
// needs. Before, it had already locked the job row and could deadlock with one.
func TestJobRetryLocksTheProjectFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "quinn", "authenticated")
	id := readyProject(t, b, tok).ID.String()
	var jobs pack.Jobs
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "main"}).decode(t, &jobs)
	job := jobs.Jobs[0]
	b.mutate(t, tok, "job.cancel", map[string]any{"id": job.ID}).decode(t, new(pack.Job))

	tx := lockProject(t, b, id)
	defer func() { _ = tx.Rollback(context.Background()) }()
	type answer struct {
		job pack.Job
		err error
	}
	done := make(chan answer, 1)
	go func() {
		j, err := b.svc.JobRetry(context.Background(), pack.Caller{UserID: "quinn"}, job.ID.String())
		done <- answer{j, err}
	}()
	awaitLockWaiter(t, tx, func() {
		select {
		case a := <-done:
			t.Fatalf("job.retry answered %+v, %v without waiting for the project lock", a.job, a.err)
		default:
		}
	})
	if !tryLockRow(t, tx, `SELECT 1 FROM job_queue WHERE id = $1`, job.ID) {
		t.Error("job.retry holds the job's row while it waits for the project; want the project locked first")
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || a.job.Status != "pending" {
		t.Errorf("retried job: %+v, %v; want pending", a.job, a.err)
	}
}
