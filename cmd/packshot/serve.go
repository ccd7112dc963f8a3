package main

import (
	"context"
	"fmt"

	"github.com/packshot/packshot/internal/app"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
)

// cmdServe runs the HTTP API and, unless -no-worker, the job dispatcher, until ctx ends
// (SIGINT/SIGTERM). Shutdown is in order (app.App.Stop): stop accepting, let requests
// and jobs finish within PACKSHOT_SHUTDOWN_GRACE, then close the database (and stop the
// embedded cluster).
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve")
	addr := fs.String("addr", "", "listen address (overrides PACKSHOT_ADDR)")
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start (overrides PACKSHOT_AUTO_MIGRATE)")
	noWorker := fs.Bool("no-worker", false, "serve the API only; run jobs with `packshot worker` elsewhere")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *noMigrate {
		cfg.AutoMigrate = false
	}
	if err := checkDevModeAddr(cfg); err != nil {
		return err
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Stderr: e.stderr, Migrate: cfg.AutoMigrate, API: true, Worker: !*noWorker})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	if !*noWorker {
		a.Logger.Info("job dispatcher started", "worker_id", a.Queue.WorkerID(), "workers", cfg.Workers)
	}
	a.Logger.Info("packshot listening", "addr", a.HTTP.Addr(), "embedded_db", cfg.Embedded())
	fmt.Fprintf(e.stdout, "packshot listening on http://%s\n", a.HTTP.Addr())
	var served error
	select {
	case err := <-a.HTTP.Failed():
		served = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	return stopApp(a, served)
}

// stopApp stops a within the shutdown grace and returns why it stopped (cause, if the
// process did not stop on a signal).
func stopApp(a *app.App, cause error) error {
	a.Logger.Info("shutting down", "grace", a.Config.ShutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownGrace)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		a.Logger.Warn("shutdown", "err", err)
	}
	a.Logger.Info("stopped")
	return cause
}

// checkDevModeAddr refuses dev mode (no AUTH_JWT_SECRET, the embedded database) on an
// address other machines can reach: dev mode hands a token for any user, the operator's
// included, to whoever asks POST /api/dev/token.
func checkDevModeAddr(cfg config.Config) error {
	if !cfg.DevMode() || auth.LoopbackAddr(cfg.Addr) {
		return nil
	}
	return fmt.Errorf("dev mode (no AUTH_JWT_SECRET, embedded database) gives anyone who asks a token, "+
		"so it listens only on a loopback address; PACKSHOT_ADDR/-addr is %q: "+
		"use 127.0.0.1:PORT, or set AUTH_JWT_SECRET to serve on other interfaces", cfg.Addr)
}
