package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/telemetry"
)

// cmdServe runs the HTTP API and, unless -no-worker, the job dispatcher, until ctx ends
// (SIGINT/SIGTERM). Shutdown is in order: stop accepting, let requests and jobs finish
// within PACKSHOT_SHUTDOWN_GRACE, then close the database (and stop the embedded cluster).
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
	logger := newLogger(cfg, e.stderr)

	d, err := openDatabase(ctx, cfg, logger, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer d.Close()

	metrics := telemetry.New()
	configureDecode(cfg, metrics)

	// --- pack wiring (issue 6; see domain.go): storage, auth, AI providers and the pack
	// service; realtime (the broker serves subscriptions and long-polls and rings every
	// instance's doorbell); the job queue created with the pack's hooks and handlers, its
	// dispatcher started unless -no-worker; and the HTTP server's pack dependencies.
	dom, err := newPackDomain(ctx, cfg, d, logger, metrics)
	if err != nil {
		return err
	}
	jd := dom.jobDomain()
	if *noWorker {
		jd.Workers = nil // a client that only enqueues
	}
	jobs := queue.NewClient(d.Store, queueConfig(cfg, logger, jd, metrics.Queue()))
	metrics.QueueDepth(jobs.Depth)
	svc := dom.newService(jobs)
	broker := realtime.New(d.Pool, d.URL, realtime.Config{
		Hub:     api.RealtimeHubConfig(svc),
		Metrics: metrics.Realtime(),
		Logger:  logger.With("component", "realtime"),
	})
	dom.setRealtime(broker.Publish, broker.PublishProgress)
	rtCtx, stopRealtime := context.WithCancel(context.WithoutCancel(ctx))
	var rtDone sync.WaitGroup
	rtDone.Go(func() { _ = broker.Run(rtCtx) })
	defer func() { stopRealtime(); rtDone.Wait() }()
	if !*noWorker {
		stopJobs, err := startQueue(ctx, jobs, cfg, logger, jd.Maintain)
		if err != nil {
			return err
		}
		defer stopJobs()
	} else {
		// No dispatcher, but enqueues still ring other instances' doorbells: flush the
		// last ones before the database closes.
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = jobs.Stop(ctx)
		}()
	}
	deps := dom.apiDeps(api.Deps{
		Logger:    logger,
		Store:     d.Store,
		ReadyFunc: readiness(d, broker.Healthy),
		Metrics:   metrics,
	}, cfg)
	deps.TRPCObserver = metrics.TRPC()
	deps.TRPCLimitRefusedFunc = metrics.TRPCLimits()
	deps.Realtime = broker
	deps.MaxUploadsInFlight = cfg.MaxUploadsInFlight
	deps.UploadReadTimeout = cfg.UploadReadTimeout
	deps.MaxBatchConcurrency = cfg.MaxBatchConcurrency
	handler := api.NewServer(deps)
	// --- end of pack wiring ---

	if cfg.MetricsAddr != "" { // /metrics on its own address only (deps.NoPublicMetrics)
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		stopMetrics, err := serveOps(cfg.MetricsAddr, mux, logger)
		if err != nil {
			return fmt.Errorf("PACKSHOT_METRICS_ADDR: %w", err)
		}
		defer stopMetrics()
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// ReadTimeout bounds reading a request and its body (a slow sender is cut off; uploads
	// get their own deadline). It does not cut SSE streams or WebSockets: net/http clears
	// the read deadline once the body is read and on Hijack. No WriteTimeout: it would
	// end every stream.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: headerTimeout(cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
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
	routerDone := make(chan struct{})
	// Tell WebSocket clients to reconnect, end SSE streams.
	go func() { defer close(routerDone); _ = handler.Shutdown(shutdownCtx) }()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("http shutdown", "err", err)
	}
	// WebSockets are hijacked: srv.Shutdown does not wait for them. Exiting before they
	// have moved (or the grace ends) would cut them off instead of telling them to
	// reconnect.
	<-routerDone
	return nil
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

// headerTimeout is how long a client may take to send a request's headers: 10 s, or the
// read timeout when that is shorter.
func headerTimeout(read time.Duration) time.Duration {
	if read > 0 && read < 10*time.Second {
		return read
	}
	return 10 * time.Second
}

// readiness reports the instance ready when the database answers, no embedded migration
// is pending, and every extra check (the realtime LISTEN connection) passes.
func readiness(d *database, checks ...func() error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := d.Pool.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		for _, check := range checks {
			if err := check(); err != nil {
				return err
			}
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
			return api.ErrMigrationsPending
		}
		return nil
	}
}
