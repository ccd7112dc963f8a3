package queue

import (
	"context"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/pgtest"
)

// TestListenerSurvivesServerRestart restarts the throwaway cluster under a running
// dispatcher: its LISTEN connection comes back, and a job announced only by NOTIFY
// (the poll is a minute) still runs. Not parallel: the restart affects every database
// on the cluster.
func TestListenerSurvivesServerRestart(t *testing.T) {
	b, cfg := setup(t)
	cluster := pgtest.Cluster()
	if cluster == nil {
		t.Skip("needs the throwaway cluster (unset " + pgtest.EnvURL + ")")
	}
	ctx := context.Background()
	listening := make(chan struct{}, 10)
	ran := make(chan struct{}, 1)
	cfg.Workers = NewWorkers()
	cfg.Workers.add("after-restart", func(ctx context.Context, j *Job) error { ran <- struct{}{}; return nil }, HandlerOptions{})
	c := NewClient(b.db.Store, cfg)
	c.onListen = func() { listening <- struct{}{} }
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	recv(t, listening)

	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := cluster.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	recv(t, listening) // reconnected and listening again
	// The pool's connections died with the server: the first tries may fail.
	var err error
	for range 10 {
		if _, err = b.db.Pool.Exec(ctx, "SELECT enqueue_job('after-restart')"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	recv(t, ran)
}
