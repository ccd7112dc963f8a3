package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/storage"
	"github.com/packshot/packshot/internal/telemetry"
)

// packDomain is the pack domain with everything it stands on (blob storage and signed
// links, token verification, the AI providers), built once from the configuration for
// `serve` and `worker`: the projection and job handlers before the queue client, the
// service (newService) after it.
type packDomain struct {
	svc        *pack.Service // set by newService
	watchers   *pack.Watchers
	projection *pack.Projection
	handlers   *pack.Handlers
	// serviceCfg is the service's configuration but for its Enqueuer.
	serviceCfg pack.Config

	verifier *auth.Verifier
	tickets  *auth.Tickets
	links    *api.PackLinks
	files    *storage.FileServer
	// devToken issues tokens in dev mode; nil otherwise.
	devToken func(user, role string) (string, error)
	// collector deletes blobs no row references; nil when PACKSHOT_BLOB_GC_INTERVAL is 0.
	collector *pack.BlobCollector

	// publish and progress reach realtime once it runs; until then changes are only
	// seen by this instance's long-polls.
	publish  atomic.Pointer[func(realtime.Doorbell)]
	progress atomic.Pointer[func(realtime.Progress)]
}

// newPackDomain builds the pack service from cfg: blob storage (the filesystem under
// DataDir/blobs, or S3) with its garbage collector, token verification, and the AI
// providers behind one guard. metrics may be nil (no metrics).
func newPackDomain(ctx context.Context, cfg config.Config, d *database, logger *slog.Logger, metrics *telemetry.Metrics) (*packDomain, error) {
	var providerObserver ai.GuardObserver
	var blobMetrics pack.BlobMetrics
	var spendRefused func(limit string)
	if metrics != nil {
		providerObserver, blobMetrics, spendRefused = metrics.Providers(), metrics.BlobCollector(), metrics.SpendRefusals()
	}
	secret, err := auth.Secret(cfg)
	if err != nil {
		return nil, err
	}
	verifier, err := auth.NewVerifier(secret, auth.WithAudience(cfg.JWTAudience))
	if err != nil {
		return nil, err
	}
	blobs, err := storage.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("open blob storage: %w", err)
	}
	// A misconfigured bucket must fail the start, not look like missing files later.
	if err := storage.Check(ctx, blobs); err != nil {
		return nil, fmt.Errorf("check blob storage (PACKSHOT_STORAGE=%s): %w", cfg.Storage, err)
	}
	signer, err := storage.NewSigner(secret)
	if err != nil {
		return nil, err
	}
	p := &packDomain{
		verifier: verifier,
		tickets:  auth.NewTickets(d.Store, cfg.SSETicketTTL, cfg.SSETicketsPerUser),
		links:    api.NewPackLinks(signer, cfg.FileURLTTL),
		files:    storage.NewFileServer(blobs, signer),
	}
	if cfg.DevMode() {
		p.devToken = func(user, role string) (string, error) { return auth.Issue(secret, user, role, 24*time.Hour) }
	}
	providers := ai.NewProviders(ai.Config{
		OpenAIAPIKey: cfg.OpenAIKey, OpenAIBaseURL: cfg.OpenAIBaseURL,
		GeminiAPIKey: cfg.GeminiKey, GeminiBaseURL: cfg.GeminiBaseURL,
		RemoveBGAPIKey: cfg.RemoveBGKey, RemoveBGBaseURL: cfg.RemoveBGBaseURL,
		Timeout: cfg.AITimeout, Logger: logger.With("component", "ai"),
	})
	// One guard per process: it caps concurrent calls per provider and pauses a provider
	// for every instance (through the provider_pauses table) on a 429 or an outage. A
	// job that finds the provider busy is snoozed rather than parked on a worker.
	guard := ai.NewGuard(ai.GuardConfig{
		Store:          db.NewPauseStore(d.Store),
		Observer:       providerObserver,
		Logger:         logger.With("component", "ai"),
		BusyRetryAfter: providerBusySnooze,
	})
	chosen := pack.ProvidersFrom(providers)
	chosen.Generator = guard.Generator(chosen.Generator)
	chosen.BackgroundRemover = guard.BackgroundRemover(chosen.BackgroundRemover)
	// Every write claims its key first, so the collector never deletes a blob between
	// its storage and the row that references it (see pack.BlobCollector).
	packBlobs := pack.ClaimingBlobs(pack.StorageBlobs(blobs, signer, cfg.FileURLTTL), d.Store)
	p.watchers = pack.NewWatchers(realtimeAnnouncer{p})
	p.projection = pack.NewProjection(p.watchers)
	p.handlers = pack.NewHandlers(pack.HandlersConfig{
		Store:     d.Store,
		Blobs:     packBlobs,
		Providers: chosen,
		Announcer: p.watchers,
		Logger:    logger.With("component", "pack"),
		AITimeout: cfg.AITimeout + time.Minute,
	})
	p.serviceCfg = pack.Config{
		Store:          d.Store,
		Blobs:          packBlobs,
		Watchers:       p.watchers,
		Providers:      chosen,
		Logger:         logger.With("component", "pack"),
		PackURLFunc:    p.links.URL,
		MaxUploadBytes: cfg.MaxUploadBytes,
		Spend: pack.SpendLimits{
			MaxAIJobsInFlight: cfg.MaxAIJobsInFlight,
			UserDailyUSD:      cfg.AIDailyBudgetUSD,
			GlobalDailyUSD:    cfg.AIGlobalDailyBudgetUSD,
			RefusedFunc:       spendRefused,
		},
	}
	if cfg.BlobGCInterval > 0 {
		p.collector = pack.NewBlobCollector(pack.BlobCollectorConfig{
			Store: d.Store, Blobs: blobs,
			Grace: cfg.BlobGCGrace, Interval: cfg.BlobGCInterval, BatchSize: cfg.BlobGCBatch,
			DeleteTimeout: cfg.BlobGCDeleteTimeout,
			Logger:        logger.With("component", "blobgc"), Metrics: blobMetrics,
		})
	}
	names := providers.Names()
	if len(names) == 0 {
		names = []string{"local engine only"}
	}
	logger.Info("image providers", "providers", names)
	return p, nil
}

// providerBusySnooze is how long a job that found its AI provider busy (every slot of
// this instance taken, or the probe after a pause under way) is first snoozed, without
// spending an attempt, so its worker runs other jobs meanwhile. Short, because a slot may
// free at any time; each snooze costs one claim and one write-back (the job checks before
// any expensive work), and the pack service doubles it, jittered, up to 30 s for a job
// that keeps finding its provider busy.
const providerBusySnooze = 2 * time.Second

// newService builds the request-side pack service over the queue client jobs.
func (p *packDomain) newService(jobs *queue.Client) *pack.Service {
	cfg := p.serviceCfg
	cfg.Enqueuer = jobs
	p.svc = pack.New(cfg)
	return p.svc
}

// realtimeAnnouncer passes the pack's signals to realtime's publisher once it runs;
// until then changes are only seen by this instance's long-polls.
type realtimeAnnouncer struct{ p *packDomain }

// ProjectChanged rings realtime's doorbell for the project (after commit).
func (a realtimeAnnouncer) ProjectChanged(c pack.Change) {
	if pub := a.p.publish.Load(); pub != nil {
		(*pub)(realtime.Doorbell{ProjectID: c.ProjectID, UserID: c.UserID, Version: c.Version})
	}
}

// JobProgress passes a running job's in-memory progress to realtime.
func (a realtimeAnnouncer) JobProgress(jp pack.JobProgress) {
	if pr := a.p.progress.Load(); pr != nil {
		(*pr)(realtime.Progress{ProjectID: jp.ProjectID, UserID: jp.UserID, JobID: jp.JobID, Progress: jp.Percent, Stage: jp.Stage})
	}
}

// setRealtime connects the domain to realtime's publisher.
func (p *packDomain) setRealtime(publish func(realtime.Doorbell), progress func(realtime.Progress)) {
	p.publish.Store(&publish)
	p.progress.Store(&progress)
}

// jobDomain is what the queue client is created with (the projection's hooks, the
// handlers and the diagnostic probe as workers), and the blob collector, which runs
// alongside the dispatcher.
func (p *packDomain) jobDomain() jobDomain {
	ws := queue.NewWorkers()
	addProbe(ws)
	p.handlers.AddTo(ws)
	jd := jobDomain{Hooks: p.projection.Hooks(), Workers: ws}
	if p.collector != nil {
		jd.Maintain = p.collector.Run
	}
	return jd
}

// apiDeps fills the pack part of the HTTP server's dependencies.
func (p *packDomain) apiDeps(deps api.Deps, cfg config.Config) api.Deps {
	deps.Pack = p.svc
	deps.Verifier = p.verifier
	deps.PackLinks = p.links
	deps.Files = p.files
	deps.DevTokenFunc = p.devToken
	deps.Transformer = cfg.TRPCTransformer
	deps.AllowedOrigins = cfg.AllowedOrigins
	deps.MaxBodyBytes = cfg.MaxBodyBytes
	deps.MaxUploadBytes = cfg.MaxUploadBytes
	deps.EnqueuePerMinute = cfg.RateLimitPerMinute
	deps.MaxPacksInFlight = cfg.MaxPacksInFlight
	// WebSocket and SSE connection limits.
	deps.WSAuthTimeout = cfg.WSAuthTimeout
	deps.MaxConnsPerIP, deps.MaxConnsPerUser = cfg.MaxConnsPerIP, cfg.MaxConnsPerUser
	deps.WSMaxCallsInFlight, deps.WSMaxSubscriptions = cfg.WSMaxCallsInFlight, cfg.WSMaxSubscriptions
	deps.TrustedProxies = cfg.TrustedProxies
	deps.SSEReconnectAfterInactivity = cfg.SSEReconnectAfterInactivity
	deps.MaxConns, deps.ConnsIPv6PrefixBits = cfg.MaxConns, cfg.ConnsIPv6PrefixBits

	deps.Tickets = p.tickets
	deps.NoPublicMetrics = cfg.MetricsAddr != ""
	deps.TRPCMaxInputDepth = cfg.TRPCMaxInputDepth
	return deps
}

// The worker's domain: the pack handlers, publishing their changes through a realtime
// publisher of its own so API instances' subscribers see them.
func init() {
	newJobDomain = func(ctx context.Context, cfg config.Config, d *database, n *notifier.Notifier, logger *slog.Logger, metrics *telemetry.Metrics) (jobDomain, error) {
		p, err := newPackDomain(ctx, cfg, d, logger, metrics)
		if err != nil {
			return jobDomain{}, err
		}
		pub := realtime.NewPublisher(n, realtime.PublisherConfig{
			Logger:  logger.With("component", "realtime"),
			Metrics: metrics.Realtime(),
		})
		// The publisher outlives ctx: jobs finishing during the shutdown grace still
		// announce their changes. Close stops it after the queue has stopped.
		if err := pub.Start(ctx); err != nil {
			return jobDomain{}, err
		}
		p.setRealtime(pub.Publish, pub.PublishProgress)
		jd := p.jobDomain()
		jd.Close = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = pub.Stop(ctx)
		}
		return jd, nil
	}
}
