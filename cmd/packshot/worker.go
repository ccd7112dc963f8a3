package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/telemetry"
)

// jobDomain is what the domain gives the job queue: the hooks and the workers the client
// is created with.
type jobDomain struct {
	Hooks   queue.Hooks
	Workers *queue.Workers
	// Close releases what the domain opened, after the queue has stopped. Optional.
	Close func()
	// Maintain runs the domain's periodic upkeep (the blob collector) until its context
	// ends; startQueue runs it alongside the dispatcher. Optional.
	Maintain func(ctx context.Context)
}

// newJobDomain builds the domain services for the queue of `worker` (and of `serve`, when
// its wiring uses it). The file that wires the pack service sets it; while it is nil the
// dispatcher runs without handlers and claims nothing.
var newJobDomain func(ctx context.Context, cfg config.Config, d *database, logger *slog.Logger, metrics *telemetry.Metrics) (jobDomain, error)

// queueConfig maps packshot's configuration onto the queue's; every other queue option
// keeps its default (the README, "The job queue: semantics and options").
func queueConfig(cfg config.Config, logger *slog.Logger, jd jobDomain, metrics queue.Metrics) queue.Config {
	return queue.Config{
		Metrics:       metrics,
		MaxWorkers:    cfg.Workers,
		Workers:       jd.Workers,
		PollInterval:  cfg.PollInterval,
		Retention:     cfg.JobRetention,
		LeaseDuration: cfg.JobLease,
		Hooks:         jd.Hooks,
		Logger:        logger.With("component", "queue"),
	}
}

// startQueue starts jobs' dispatcher, and each non-nil maintain loop beside it, and
// returns the function that stops them: it begins as soon as ctx ends (so running jobs
// get the whole cfg.ShutdownGrace while the HTTP server drains too), and waits for the
// stop to finish. Call it before the database closes; calling it more than once is fine.
func startQueue(ctx context.Context, jobs *queue.Client, cfg config.Config, logger *slog.Logger, maintain ...func(context.Context)) (stop func(), err error) {
	if err := jobs.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the job dispatcher: %w", err)
	}
	logger.Info("job dispatcher started", "worker_id", jobs.WorkerID(), "workers", cfg.Workers)
	mctx, stopMaintain := context.WithCancel(context.WithoutCancel(ctx))
	var maintaining sync.WaitGroup
	for _, m := range maintain {
		if m != nil {
			maintaining.Go(func() { m(mctx) })
		}
	}
	stopOnce := sync.OnceFunc(func() {
		stopMaintain()
		maintaining.Wait()
		grace, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err := jobs.Stop(grace); err != nil {
			logger.Warn("job dispatcher stop", "err", err)
		}
		logger.Info("job dispatcher stopped")
	})
	unregister := context.AfterFunc(ctx, stopOnce)
	return func() { unregister(); stopOnce() }, nil
}

// serveOps serves an operations handler (health and metrics) on addr until the returned
// function is called.
func serveOps(addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("ops endpoints listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

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
	logger := newLogger(cfg, e.stderr)
	d, err := openDatabase(ctx, cfg, logger, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer d.Close()

	metrics := telemetry.New()
	configureDecode(cfg, metrics)
	var dom jobDomain
	if newJobDomain != nil {
		if dom, err = newJobDomain(ctx, cfg, d, logger, metrics); err != nil {
			return err
		}
		if dom.Close != nil {
			defer dom.Close()
		}
	} else {
		logger.Warn("no job handlers are wired into this binary; the worker runs only the probe")
		dom.Workers = queue.NewWorkers()
		addProbe(dom.Workers)
	}
	jobs := queue.NewClient(d.Store, queueConfig(cfg, logger, dom, metrics.Queue()))
	metrics.QueueDepth(jobs.Depth)
	if *opsAddr != "" {
		stopOps, err := serveOps(*opsAddr, api.NewOpsServer(logger, readiness(d), metrics), logger)
		if err != nil {
			return err
		}
		defer stopOps()
	}
	stop, err := startQueue(ctx, jobs, cfg, logger, dom.Maintain)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(e.stdout, "packshot worker %s running %d jobs at once\n", jobs.WorkerID(), cfg.Workers)
	<-ctx.Done()
	logger.Info("shutting down", "grace", cfg.ShutdownGrace)
	return nil
}
