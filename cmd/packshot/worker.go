package main

import (
	"context"
	"fmt"

	"github.com/packshot/packshot/internal/app"
	"github.com/packshot/packshot/internal/config"
)

// cmdWorker runs the job dispatcher without the HTTP API until ctx ends (SIGINT/SIGTERM),
// then stops claiming, lets running jobs finish within PACKSHOT_SHUTDOWN_GRACE and
// releases the rest back to pending. Run API-only instances with `serve -no-worker`.
func cmdWorker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "worker")
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start (overrides PACKSHOT_AUTO_MIGRATE)")
	workers := fs.Int("workers", 0, "jobs run at once (overrides PACKSHOT_WORKERS)")
	opsAddr := fs.String("ops-addr", "", "serve /healthz, /readyz and /metrics on this address (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	if *noMigrate {
		cfg.AutoMigrate = false
	}
	if *workers > 0 {
		cfg.Workers = *workers
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Stderr: e.stderr, Migrate: cfg.AutoMigrate, Worker: true, OpsAddr: *opsAddr})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	a.Logger.Info("job dispatcher started", "worker_id", a.Queue.WorkerID(), "workers", cfg.Workers)
	fmt.Fprintf(e.stdout, "packshot worker %s running %d jobs at once\n", a.Queue.WorkerID(), cfg.Workers)
	<-ctx.Done()
	return stopApp(a, nil)
}
