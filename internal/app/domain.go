package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/storage"
	"github.com/packshot/packshot/internal/telemetry"
)

// domain is what the pack's parts stand on, built once from the configuration: blob
// storage and signed links, token verification, the AI providers behind one guard, and
// the blob collector.
type domain struct {
	cfg       config.Config
	metrics   *telemetry.Metrics
	blobs     pack.Blobs
	providers pack.Providers
	verifier  *auth.Verifier
	tickets   *auth.Tickets
	links     *api.PackLinks
	files     *storage.FileServer
	// devToken issues tokens in dev mode; nil otherwise.
	devToken func(user, role string) (string, error)
	// collector deletes blobs no row references; nil when PACKSHOT_BLOB_GC_INTERVAL is 0.
	collector *pack.BlobCollector
}

// newDomain opens blob storage (the filesystem under DataDir/blobs, or S3) and checks
// it, and builds token verification and the AI providers.
func newDomain(ctx context.Context, cfg config.Config, d *Database, logger *slog.Logger, metrics *telemetry.Metrics) (*domain, error) {
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
	dom := &domain{
		cfg:      cfg,
		metrics:  metrics,
		verifier: verifier,
		tickets:  auth.NewTickets(d.Store, cfg.SSETicketTTL, cfg.SSETicketsPerUser),
		links:    api.NewPackLinks(signer, cfg.FileURLTTL),
		files:    storage.NewFileServer(blobs, signer),
		// Every write claims its key first, so the collector never deletes a blob between
		// its storage and the row that references it (see pack.BlobCollector).
		blobs:     pack.ClaimingBlobs(pack.StorageBlobs(blobs, signer, cfg.FileURLTTL), d.Store),
		providers: newProviders(cfg, d, logger, metrics),
	}
	if cfg.DevMode() {
		dom.devToken = func(user, role string) (string, error) { return auth.Issue(secret, user, role, 24*time.Hour) }
	}
	if cfg.BlobGCInterval > 0 {
		dom.collector = pack.NewBlobCollector(pack.BlobCollectorConfig{
			Store: d.Store, Blobs: blobs,
			Grace: cfg.BlobGCGrace, Interval: cfg.BlobGCInterval, BatchSize: cfg.BlobGCBatch,
			DeleteTimeout: cfg.BlobGCDeleteTimeout,
			Logger:        logger.With("component", "blobgc"), Metrics: metrics.BlobCollector(),
		})
	}
	return dom, nil
}

// newProviders builds the AI providers the configuration has keys for, behind one guard
// per process: it caps concurrent calls per provider and pauses a provider for every
// instance (through the provider_pauses table) on a 429 or an outage. A job that finds
// the provider busy is snoozed rather than parked on a worker.
func newProviders(cfg config.Config, d *Database, logger *slog.Logger, metrics *telemetry.Metrics) pack.Providers {
	providers := ai.NewProviders(ai.Config{
		OpenAIAPIKey: cfg.OpenAIKey, OpenAIBaseURL: cfg.OpenAIBaseURL,
		GeminiAPIKey: cfg.GeminiKey, GeminiBaseURL: cfg.GeminiBaseURL,
		RemoveBGAPIKey: cfg.RemoveBGKey, RemoveBGBaseURL: cfg.RemoveBGBaseURL,
		Timeout: cfg.AITimeout, Logger: logger.With("component", "ai"),
	})
	guard := ai.NewGuard(ai.GuardConfig{
		Store:          db.NewPauseStore(d.Store),
		Observer:       metrics.Providers(),
		Logger:         logger.With("component", "ai"),
		BusyRetryAfter: providerBusySnooze,
	})
	chosen := pack.ProvidersFrom(providers)
	chosen.Generator = guard.Generator(chosen.Generator)
	chosen.BackgroundRemover = guard.BackgroundRemover(chosen.BackgroundRemover)
	names := providers.Names()
	if len(names) == 0 {
		names = []string{"local engine only"}
	}
	logger.Info("image providers", "providers", names)
	return chosen
}

// providerBusySnooze is how long a job that found its AI provider busy (every slot of
// this instance taken, or the probe after a pause under way) is first snoozed, without
// spending an attempt, so its worker runs other jobs meanwhile. Short, because a slot may
// free at any time; each snooze costs one claim and one write-back (the job checks before
// any expensive work), and the pack handlers double it, jittered, up to 30 s for a job
// that keeps finding its provider busy.
const providerBusySnooze = 2 * time.Second

// spend is the configuration's AI spend limits.
func (dom *domain) spend() pack.SpendLimits {
	return pack.SpendLimits{
		MaxAIJobsInFlight: dom.cfg.MaxAIJobsInFlight,
		UserDailyUSD:      dom.cfg.AIDailyBudgetUSD,
		GlobalDailyUSD:    dom.cfg.AIGlobalDailyBudgetUSD,
		RefusedFunc:       dom.metrics.SpendRefusals(),
	}
}

// handlers returns the pack's job handlers, one per job kind.
func (dom *domain) handlers(store db.Store, w *pack.Watchers, logger *slog.Logger) *pack.Handlers {
	return pack.NewHandlers(pack.HandlersConfig{
		Store:     store,
		Blobs:     dom.blobs,
		Providers: dom.providers,
		Announcer: w,
		Logger:    logger.With("component", "pack"),
		AITimeout: dom.cfg.AITimeout + time.Minute,
	})
}

// service returns the request side of the pack, enqueueing on q.
func (dom *domain) service(store db.Store, q *queue.Client, w *pack.Watchers, logger *slog.Logger) *pack.Service {
	return pack.New(pack.Config{
		Store:          store,
		Blobs:          dom.blobs,
		Enqueuer:       q,
		Watchers:       w,
		Providers:      dom.providers,
		Logger:         logger.With("component", "pack"),
		PackURLFunc:    dom.links.URL,
		MaxUploadBytes: dom.cfg.MaxUploadBytes,
		Spend:          dom.spend(),
	})
}

// apiDeps fills the HTTP server's dependencies that come from the configuration and the
// domain.
func (dom *domain) apiDeps(cfg config.Config, deps api.Deps) api.Deps {
	deps.Verifier = dom.verifier
	deps.PackLinks = dom.links
	deps.Files = dom.files
	deps.DevTokenFunc = dom.devToken
	deps.Tickets = dom.tickets
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
	deps.NoPublicMetrics = cfg.MetricsAddr != ""
	deps.TRPCMaxInputDepth = cfg.TRPCMaxInputDepth
	deps.TRPCObserver = dom.metrics.TRPC()
	deps.TRPCLimitRefusedFunc = dom.metrics.TRPCLimits()
	deps.MaxUploadsInFlight = cfg.MaxUploadsInFlight
	deps.UploadReadTimeout = cfg.UploadReadTimeout
	deps.MaxBatchConcurrency = cfg.MaxBatchConcurrency
	return deps
}

// announcer carries the pack's "project changed" signal and its jobs' progress to
// realtime's publisher, which rings every instance (this one at once).
type announcer struct {
	pub     *realtime.Publisher
	observe func(pack.Change) // Options.ObserveChange; may be nil
}

func (a announcer) ProjectChanged(c pack.Change) {
	if a.observe != nil {
		a.observe(c)
	}
	a.pub.Publish(realtime.Change{ProjectID: c.ProjectID, UserID: c.UserID, Version: c.Version})
}

func (a announcer) JobProgress(p pack.JobProgress) {
	a.pub.PublishProgress(realtime.Progress{ProjectID: p.ProjectID, UserID: p.UserID, JobID: p.JobID, Progress: p.Percent, Stage: p.Stage})
}
