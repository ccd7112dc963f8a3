package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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

// packDomain is the pack service with everything it stands on (blob storage and signed
// links, token verification, the AI providers), built once from the configuration for
// `serve` and `worker`.
type packDomain struct {
	svc      *pack.Service
	verifier *auth.Verifier
	links    *api.PackLinks
	files    *storage.FileServer
	// devToken issues tokens in dev mode; nil otherwise.
	devToken func(user, role string) (string, error)
	handlers pack.HandlerOptions

	// publish and progress reach realtime once it runs; until then changes are only
	// seen by this instance's long-polls.
	publish  atomic.Pointer[func(realtime.Doorbell)]
	progress atomic.Pointer[func(realtime.Progress)]
}

// newPackDomain builds the pack service from cfg: blob storage (the filesystem under
// DataDir/blobs, or S3), token verification, and the AI providers behind one guard.
func newPackDomain(ctx context.Context, cfg config.Config, d *database, logger *slog.Logger, providerObserver ai.GuardObserver) (*packDomain, error) {
	secret, err := auth.Secret(cfg)
	if err != nil {
		return nil, err
	}
	verifier, err := auth.NewVerifier(secret)
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
		links:    api.NewPackLinks(signer, cfg.FileURLTTL),
		files:    storage.NewFileServer(blobs, signer),
		handlers: pack.HandlerOptions{AITimeout: cfg.AITimeout + time.Minute},
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
	// for every instance (through the provider_pauses table) on a 429 or an outage.
	guard := ai.NewGuard(ai.GuardConfig{
		Store:    db.NewPauseStore(d.Store),
		Observer: providerObserver,
		Logger:   logger.With("component", "ai"),
	})
	chosen := pack.ProvidersFrom(providers)
	chosen.Generator = guard.Generator(chosen.Generator)
	chosen.BackgroundRemover = guard.BackgroundRemover(chosen.BackgroundRemover)
	p.svc = pack.New(pack.Config{
		Store:          d.Store,
		Blobs:          pack.StorageBlobs(blobs, signer, cfg.FileURLTTL),
		Providers:      chosen,
		Logger:         logger.With("component", "pack"),
		PackURLFunc:    p.links.URL,
		ChangedFunc:    p.changed,
		MaxUploadBytes: cfg.MaxUploadBytes,
	})
	names := providers.Names()
	if len(names) == 0 {
		names = []string{"local engine only"}
	}
	logger.Info("image providers", "providers", names)
	return p, nil
}

// changed rings realtime's doorbell for each changed project (after commit).
func (p *packDomain) changed(changes []pack.Change) {
	pub := p.publish.Load()
	if pub == nil {
		return
	}
	for _, c := range changes {
		(*pub)(realtime.Doorbell{ProjectID: c.ProjectID, UserID: c.UserID, Version: c.Version})
	}
}

// jobProgress passes a running job's in-memory progress to realtime.
func (p *packDomain) jobProgress(job *queue.Job, percent int, stage string) {
	pr := p.progress.Load()
	if pr == nil || !job.ProjectID.Valid {
		return
	}
	(*pr)(realtime.Progress{ProjectID: job.ProjectID.UUID, UserID: job.UserID, JobID: job.ID, Progress: percent, Stage: stage})
}

// setRealtime connects the domain to realtime's publisher.
func (p *packDomain) setRealtime(publish func(realtime.Doorbell), progress func(realtime.Progress)) {
	p.publish.Store(&publish)
	p.progress.Store(&progress)
}

// jobDomain is what the queue client is created with and then given.
func (p *packDomain) jobDomain() jobDomain {
	return jobDomain{
		Hooks:  p.svc.QueueHooks(p.jobProgress),
		Attach: func(qc *queue.Client) { p.svc.Attach(qc, p.handlers) },
	}
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
	deps.TRPCMaxInputDepth = cfg.TRPCMaxInputDepth
	return deps
}

// The worker's domain: the pack handlers, publishing their changes through a realtime
// publisher of its own so API instances' subscribers see them.
func init() {
	newJobDomain = func(ctx context.Context, cfg config.Config, d *database, logger *slog.Logger, metrics *telemetry.Metrics) (jobDomain, error) {
		p, err := newPackDomain(ctx, cfg, d, logger, metrics.Providers())
		if err != nil {
			return jobDomain{}, err
		}
		pub := realtime.NewPublisher(d.Pool, realtime.PublisherConfig{
			Logger:  logger.With("component", "realtime"),
			Metrics: metrics.Realtime(),
		})
		// The publisher outlives ctx: jobs finishing during the shutdown grace still
		// announce their changes. Close stops it after the queue has stopped.
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Go(func() { _ = pub.Run(pctx) })
		p.setRealtime(pub.Publish, pub.PublishProgress)
		jd := p.jobDomain()
		jd.Close = func() { cancel(); wg.Wait() }
		return jd, nil
	}
}
