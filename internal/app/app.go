package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/lifecycle"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/telemetry"
)

// Options say which parts of packshot a process runs.
type Options struct {
	// Config is the loaded configuration.
	Config config.Config
	// Logger receives every part's logs. Defaults to NewLogger(Config, Stderr).
	Logger *slog.Logger
	// Stderr is where the default logger writes. Defaults to discarding.
	Stderr io.Writer
	// Database, if set, is used instead of opening Config's (a benchmark's scratch
	// database). Close does not close it then.
	Database *Database
	// Migrate applies pending migrations when the database opens.
	Migrate bool

	// API serves the HTTP API (tRPC, REST, the web app) and realtime on Config.Addr.
	API bool
	// Worker runs the job dispatcher and the blob collector.
	Worker bool
	// OpsAddr, if set, serves /healthz, /readyz and /metrics alone on this address
	// (`packshot worker -ops-addr`).
	OpsAddr string

	// ObserveChange, if set, is told of every project change as it is announced, after
	// its commit (`packshot bench realtime` times commits with it).
	ObserveChange func(pack.Change)
	// RealtimeMetrics, if set, replaces realtime's metrics (`packshot bench realtime`
	// samples the fan-out lag with it).
	RealtimeMetrics *realtime.Metrics
}

// App is one packshot process, built and ready to Start.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *Database
	Metrics  *telemetry.Metrics
	Notifier *notifier.Notifier
	Queue    *queue.Client
	Pack     *pack.Service
	// Realtime is the hub that serves subscriptions; nil without Options.API.
	Realtime *realtime.Broker
	// HTTP is the API server; nil without Options.API.
	HTTP *HTTPServer

	ownsDB bool
	parts  lifecycle.Group
}

// New builds the process that opts describe, in the order the data flows, and registers
// its long-running parts for Start. Nothing runs until Start. On error, whatever was
// opened is closed.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	a := &App{Config: opts.Config, Logger: opts.Logger, DB: opts.Database, Metrics: telemetry.New()}
	if a.Logger == nil {
		a.Logger = NewLogger(a.Config, orDiscard(opts.Stderr))
	}
	a.parts.Observe = a.logPart
	a.parts.FailedStartTimeout = a.Config.ShutdownGrace
	if a.DB == nil {
		if a.DB, err = OpenDatabase(ctx, a.Config, a.Logger, opts.Migrate); err != nil {
			return nil, err
		}
		a.ownsDB = true
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	configureDecode(a.Config, a.Metrics)
	// Storage, tokens and AI providers: what the pack's parts stand on.
	dom, err := newDomain(ctx, a.Config, a.DB, a.Logger, a.Metrics)
	if err != nil {
		return nil, err
	}
	rt := a.addSignals(opts)
	a.addOpsServers(opts)
	a.addQueue(opts, dom, rt.watchers)
	// The request side of the pack, given the queue to enqueue on.
	a.Pack = dom.service(a.DB.Store, a.Queue, rt.watchers, a.Logger)
	if opts.API {
		a.addAPI(opts, dom, rt)
	}
	return a, nil
}

// signals is how changes leave the code that made them: the watchers (this instance's
// long-polls, then the publisher) and realtime's publisher with its metrics.
type signals struct {
	watchers  *pack.Watchers
	publisher *realtime.Publisher
	metrics   *realtime.Metrics
}

// addSignals builds the notifier (one LISTEN connection, topics for the queue and
// realtime), realtime's publisher (every change and progress report, to every instance)
// and the watchers, the one door for the "project changed" signal in this process.
func (a *App) addSignals(opts Options) signals {
	a.Notifier = notifier.New(a.DB.Pool, notifier.Config{
		Logger:  a.Logger.With("component", "notifier"),
		Metrics: a.Metrics.Notifier(),
	})
	a.parts.Add("notifier", a.Notifier)
	rt := signals{metrics: a.Metrics.Realtime()} // registers the collectors: once per process
	if opts.RealtimeMetrics != nil {
		rt.metrics = opts.RealtimeMetrics
	}
	rt.publisher = realtime.NewPublisher(a.Notifier, realtime.PublisherConfig{
		Logger:  a.Logger.With("component", "realtime"),
		Metrics: rt.metrics,
	})
	a.parts.Add("realtime publisher", rt.publisher)
	rt.watchers = pack.NewWatchers(announcer{pub: rt.publisher, observe: opts.ObserveChange})
	return rt
}

// addQueue builds the queue client, given the pack's status projection (run inside its
// transactions) and, in a worker, the job handlers and the blob collector.
func (a *App) addQueue(opts Options, dom *domain, watchers *pack.Watchers) {
	var workers *queue.Workers
	if opts.Worker {
		workers = queue.NewWorkers()
		addProbe(workers)
		dom.handlers(a.DB.Store, watchers, a.Logger).AddTo(workers)
	}
	projection := pack.NewProjection(watchers)
	a.Queue = queue.NewClient(a.DB.Store, queueConfig(a.Config, a.Logger, a.Notifier, projection.Hooks(), workers, a.Metrics.Queue()))
	a.Metrics.QueueDepth(a.Queue.Depth)
	if !opts.Worker {
		// No dispatcher; stopping it still sends the last doorbells of its enqueues.
		a.parts.Add("queue (enqueue only)", lifecycle.Func(nil, a.Queue.Stop))
		return
	}
	a.parts.Add("queue", a.Queue)
	if dom.collector != nil {
		a.parts.Add("blob collector", lifecycle.Loop(dom.collector.Run))
	}
}

// addOpsServers serves /healthz, /readyz and /metrics on Options.OpsAddr, and /metrics
// alone on PACKSHOT_METRICS_ADDR for the API (then not on the API's address:
// Deps.NoPublicMetrics). They start before the queue, so a port in use fails the start
// before any job is claimed, and stop after it, so the drain can be watched.
func (a *App) addOpsServers(opts Options) {
	if opts.OpsAddr != "" {
		a.parts.Add("ops server", NewOpsServer(opts.OpsAddr, api.NewOpsServer(a.Logger, a.ready(opts), a.Metrics), a.Logger))
	}
	if addr := a.Config.MetricsAddr; addr != "" && opts.API {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Metrics.Handler())
		a.parts.Add("metrics server", NewOpsServer(addr, mux, a.Logger))
	}
}

// addAPI builds realtime's hub (reading snapshots from the pack service) and the HTTP
// server.
func (a *App) addAPI(opts Options, dom *domain, rt signals) {
	a.Realtime = realtime.New(realtime.Config{
		Notifier:  a.Notifier,
		Publisher: rt.publisher,
		Hub:       api.RealtimeHubConfig(a.Pack),
		Metrics:   rt.metrics,
		Logger:    a.Logger.With("component", "realtime"),
	})
	a.parts.Add("realtime hub", a.Realtime)
	a.HTTP = NewHTTPServer(a.Config, api.NewServer(dom.apiDeps(a.Config, api.Deps{
		Logger:    a.Logger,
		Store:     a.DB.Store,
		ReadyFunc: a.ready(opts),
		Metrics:   a.Metrics,
		Pack:      a.Pack,
		Realtime:  a.Realtime,
	})), a.Logger)
	a.parts.Add("http server", a.HTTP)
}

// Start starts every part in the order New built them. If one fails, the ones started
// are stopped again.
func (a *App) Start(ctx context.Context) error {
	return a.parts.Start(ctx)
}

// Parts returns the names of the long-running parts in start order.
func (a *App) Parts() []string { return a.parts.Names() }

// logPart logs each part's start and stop.
func (a *App) logPart(name string, stopping bool) {
	verb := "starting"
	if stopping {
		verb = "stopping"
	}
	a.Logger.Debug(verb, "part", name)
}

// Stop stops every started part within ctx (the shutdown grace). The job dispatcher
// stops claiming at once; then the parts stop in the reverse order: the HTTP server
// drains first (WebSockets told to reconnect, SSE streams ended), then realtime, the
// dispatcher (running jobs finish, or are released when the grace ends), the ops
// servers, the publisher (its last doorbells sent, even after the grace) and the
// notifier.
func (a *App) Stop(ctx context.Context) error {
	return a.parts.Stop(ctx)
}

// Close closes the database (and stops the embedded cluster) if New opened it. Call it
// after Stop.
func (a *App) Close() {
	if a.ownsDB && a.DB != nil {
		a.DB.Close()
	}
}

// ready is the instance's readiness: the database answers and no migration is pending
// and, for an instance that serves the API, the notifier hears notifications (without it
// its subscribers would go stale). A worker does not wait for the notifier: it finds its
// work by polling too.
func (a *App) ready(opts Options) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := a.DB.Ready(ctx); err != nil {
			return err
		}
		if opts.API {
			return a.Notifier.Ready()
		}
		return nil
	}
}

// queueConfig maps packshot's configuration onto the queue's; every other queue option
// keeps its default (the README, "The job queue: semantics and options").
func queueConfig(cfg config.Config, logger *slog.Logger, n *notifier.Notifier, hooks queue.Hooks, workers *queue.Workers, metrics queue.Metrics) queue.Config {
	return queue.Config{
		Notifier:      n,
		Workers:       workers,
		Hooks:         hooks,
		Metrics:       metrics,
		MaxWorkers:    cfg.Workers,
		PollInterval:  cfg.PollInterval,
		Retention:     cfg.JobRetention,
		LeaseDuration: cfg.JobLease,
		Logger:        logger.With("component", "queue"),
	}
}

// configureDecode sets the process-wide image decode guard from cfg, reporting to
// metrics. Every decode in the process (upload validation, job handlers) goes through
// it; `packshot pack` keeps imaging's defaults.
func configureDecode(cfg config.Config, metrics *telemetry.Metrics) {
	imaging.ConfigureDecode(imaging.DecodeConfig{
		BudgetBytes:     cfg.DecodeBudgetBytes,
		MaxCostlyPixels: int64(cfg.MaxCostlyMegapixels) * 1_000_000,
		Observer:        metrics.Decode(cfg.DecodeBudgetBytes),
	})
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
