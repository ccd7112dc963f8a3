package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/telemetry"
)

// cmdServe runs the HTTP API and, unless -no-worker, the job dispatcher, until ctx ends
// (SIGINT/SIGTERM). Shutdown is in order: stop accepting, let requests and jobs finish
// within PACKSHOT_SHUTDOWN_GRACE, then close the database (and stop the embedded cluster).
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve")
	addr := fs.String("addr", "", "listen address (overrides PACKSHOT_ADDR)")
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start (overrides PACKSHOT_AUTO_MIGRATE)")
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
	logger := newLogger(cfg, e.stderr)

	d, err := openDatabase(ctx, cfg, logger, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer d.Close()

	metrics := telemetry.New()
	handler := api.NewServer(api.Deps{
		Logger:    logger,
		Store:     d.Store,
		ReadyFunc: readiness(d),
		Metrics:   metrics,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("packshot listening", "addr", ln.Addr().String(), "embedded_db", cfg.Embedded())
	fmt.Fprintf(e.stdout, "packshot listening on http://%s\n", ln.Addr())

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("http shutdown", "err", err)
	}
	return nil
}

// readiness reports the instance ready when the database answers and no embedded
// migration is pending.
func readiness(d *database) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := d.Pool.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		m, err := db.NewMigrator(d.Pool)
		if err != nil {
			return err
		}
		defer m.Close()
		pending, err := m.Pending(ctx)
		if err != nil {
			return err
		}
		if pending {
			return errors.New("database migrations pending: run `packshot migrate`")
		}
		return nil
	}
}
