package pack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/queue"
)

// HandlersConfig is what the image job handlers need.
type HandlersConfig struct {
	// Store is the database. Required.
	Store db.Store
	// Blobs stores photos and images. Required.
	Blobs Blobs
	// Providers are the AI services to use; the zero value means the local engine only.
	Providers Providers
	// Announcer hears of the projects the handlers change (usually the process's
	// Watchers). Required.
	Announcer Announcer
	// Logger receives failures that are not written for users. Required.
	Logger *slog.Logger
	// ProfileFunc returns a marketplace's canvas and rules. Defaults to
	// imaging.ProfileFor; tests render on a smaller canvas to stay fast.
	ProfileFunc func(marketplace string) (imaging.Profile, error)
	// AITimeout bounds a run that calls an AI service (lifestyle and custom images with a
	// generator configured, and any run when a background remover is). Defaults to 5 min.
	AITimeout time.Duration
	// LocalTimeout bounds a run of the local engine. Defaults to 2 min.
	LocalTimeout time.Duration
	// AIConcurrency caps lifestyle and custom jobs running at once on this instance, so
	// a burst of packs does not trip the provider's rate limit. Defaults to 4.
	AIConcurrency int
	// MaxAttempts is the jobs' max_attempts. Zero means the queue's default.
	MaxAttempts int
}

// Handlers run the image jobs, one kind per image type: each makes its image, stores it
// and records it. Build them before the queue client and add them to its workers with
// AddTo. They are safe for concurrent use.
type Handlers struct {
	cfg   HandlersConfig
	store db.Store

	cutoutMu    sync.Mutex
	cutoutCalls map[string]*cutoutCall

	// busy spaces out the snoozes of jobs that keep finding their provider busy.
	busy busyBackoff
}

// NewHandlers returns the image job handlers.
func NewHandlers(cfg HandlersConfig) *Handlers {
	if cfg.AITimeout <= 0 {
		cfg.AITimeout = 5 * time.Minute
	}
	if cfg.LocalTimeout <= 0 {
		cfg.LocalTimeout = 2 * time.Minute
	}
	if cfg.AIConcurrency <= 0 {
		cfg.AIConcurrency = 4
	}
	if cfg.ProfileFunc == nil {
		cfg.ProfileFunc = imaging.ProfileFor
	}
	return &Handlers{cfg: cfg, store: cfg.Store, cutoutCalls: map[string]*cutoutCall{}}
}

// AddTo adds a worker per image job kind to ws, with its timeout and concurrency: the
// local engine's, or the AI services' for the types they make.
func (h *Handlers) AddTo(ws *queue.Workers) {
	queue.AddWorker(ws, imageWorker[MainArgs]{h}, h.options(TypeMain))
	queue.AddWorker(ws, imageWorker[LifestyleArgs]{h}, h.options(TypeLifestyle))
	queue.AddWorker(ws, imageWorker[InfographicArgs]{h}, h.options(TypeInfographic))
	queue.AddWorker(ws, imageWorker[DimensionsArgs]{h}, h.options(TypeDimensions))
	queue.AddWorker(ws, imageWorker[DetailArgs]{h}, h.options(TypeDetail))
	queue.AddWorker(ws, imageWorker[CustomArgs]{h}, h.options(TypeCustom))
}

// options returns the queue options of the kind that makes image type t.
func (h *Handlers) options(t string) queue.HandlerOptions {
	o := queue.HandlerOptions{Timeout: h.cfg.LocalTimeout, MaxAttempts: h.cfg.MaxAttempts}
	if p := h.cfg.Providers.ImageProvider(t); p != ProviderLocal && p != "" {
		o.Timeout, o.Concurrency = h.cfg.AITimeout, h.cfg.AIConcurrency
	}
	if h.cfg.Providers.BackgroundRemover != nil {
		o.Timeout = max(o.Timeout, h.cfg.AITimeout)
	}
	return o
}

// imageWorker is the queue worker of one image kind.
type imageWorker[T imageJobArgs] struct{ h *Handlers }

// Work runs the job, logging in full each failure that is not written for users (they
// see PublicError's sentence for it; the operator sees last_error).
func (w imageWorker[T]) Work(ctx context.Context, job *queue.Job, args T) error {
	var zero T
	t, _ := TypeOfKind(zero.Kind())
	err := w.h.handle(ctx, job, t, args.image().Prompt)
	if err != nil && ctx.Err() == nil && !userMessage.MatchString(err.Error()) {
		w.h.cfg.Logger.Warn("image job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempts, "err", err)
	}
	return err
}

// handle runs one job that makes image type t: it makes the image, stores it, and
// records it with its cost, superseding the previous image of its type. A job delivered
// twice finds its image already recorded and does nothing, so an AI service is never
// paid twice for one job.
func (h *Handlers) handle(ctx context.Context, job *queue.Job, t, prompt string) error {
	if !job.ProjectID.Valid {
		return queue.Permanent(errors.New("image job without a project"))
	}
	pid := job.ProjectID.UUID
	if _, err := h.store.GeneratedImageGetByJob(ctx, uuid.NullUUID{UUID: job.ID, Valid: true}); err == nil {
		return nil
	} else if !db.IsNotFound(err) {
		return fmt.Errorf("look up earlier result: %w", err)
	}
	p, err := h.store.ProjectGet(ctx, pid)
	if db.IsNotFound(err) {
		return queue.Permanent(permanent("the project was deleted"))
	}
	if err != nil {
		return fmt.Errorf("load project: %w", err)
	}
	src, err := h.store.SourceImageGet(ctx, pid)
	if db.IsNotFound(err) {
		return queue.Permanent(permanent("the project has no photo: upload one, then retry"))
	}
	if err != nil {
		return fmt.Errorf("load photo: %w", err)
	}
	// Before any expensive work: a job whose provider is busy goes back to the queue.
	if err := h.checkCapacity(ctx, t, src); err != nil {
		return h.jobError(job, err)
	}
	h.busy.reset(job.ID)
	job.Progress(1, "starting")
	m, err := h.makeImage(ctx, p, src, t, prompt, job.Progress)
	if err != nil {
		return h.jobError(job, err)
	}
	job.Progress(90, "saving")
	key, err := h.cfg.Blobs.Put(ctx, m.data, m.mime)
	if err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	return h.record(ctx, job, p, t, key, m)
}

// record inserts the made image, supersedes the previous one of its type, adds its cost
// to the project and bumps the version, in one transaction.
func (h *Handlers) record(ctx context.Context, job *queue.Job, p db.Project, t, key string, m *made) error {
	compliance, err := json.Marshal(m.compliance)
	if err != nil {
		return fmt.Errorf("encode compliance: %w", err)
	}
	var change *Change
	err = h.store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.ProjectLock(ctx, p.ID); db.IsNotFound(err) {
			return nil // deleted meanwhile: nothing to record
		} else if err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		g, err := q.GeneratedImageInsert(ctx, db.GeneratedImageInsertParams{
			ProjectID: p.ID, UserID: p.UserID, JobID: uuid.NullUUID{UUID: job.ID, Valid: true}, Type: t,
			StorageKey: key, Width: int32(m.width), Height: int32(m.height), Bytes: int64(len(m.data)),
			Mime: m.mime, Provider: m.provider, Model: m.model, Prompt: m.prompt, Compliance: compliance,
			CostUsd: m.costUSD,
		})
		if err != nil {
			return fmt.Errorf("record image: %w", err)
		}
		if t != TypeCustom {
			if err := q.GeneratedImageSupersede(ctx, db.GeneratedImageSupersedeParams{NewID: g.ID, ProjectID: p.ID, Type: t}); err != nil {
				return fmt.Errorf("supersede old image: %w", err)
			}
		}
		if m.costUSD > 0 {
			if _, err := q.ProjectAddCost(ctx, db.ProjectAddCostParams{ID: p.ID, CostUsd: m.costUSD}); err != nil {
				return fmt.Errorf("record cost: %w", err)
			}
			if err := recordSpendTx(ctx, q, p.UserID, m.costUSD); err != nil {
				return err
			}
		}
		pr, err := recomputeTx(ctx, q, p.ID)
		if err != nil {
			return err
		}
		change = &Change{ProjectID: pr.ID, UserID: pr.UserID, Version: pr.Version}
		return nil
	})
	if err != nil {
		return err
	}
	if change != nil {
		h.cfg.Announcer.ProjectChanged(*change)
	}
	return nil
}

// checkCapacity returns the error of a provider the job needs that could not take its
// call now (paused, or every slot of this instance taken): the remover when the photo
// has no cut-out yet, the generator for a lifestyle or custom image. Nil when each could.
func (h *Handlers) checkCapacity(ctx context.Context, t string, src db.SourceImage) error {
	var need []any
	if rm := h.cfg.Providers.BackgroundRemover; rm != nil && src.CutoutKey == "" {
		need = append(need, rm)
	}
	if gen := h.cfg.Providers.Generator; gen != nil && (t == TypeCustom || t == TypeLifestyle) {
		need = append(need, gen)
	}
	for _, p := range need {
		if c, ok := p.(ai.CapacityChecker); ok {
			if err := c.CheckCapacity(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxBusySnoozeFactor bounds a busy job's snooze: at most this many times the guard's
// first one (2 s then gives 30 s).
const maxBusySnoozeFactor = 15

// busyBackoff counts, per job, the provider-busy snoozes in a row in this instance, so
// that a job that keeps finding its provider busy comes back less and less often: the
// first snooze is the guard's (2 s), each next one doubles up to maxBusySnoozeFactor
// times it, all jittered to between half and the whole so that waiting jobs spread out.
// A job that gets past the check is forgotten; the count is lost when the job moves to
// another instance, which only makes it start again from 2 s.
type busyBackoff struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

// maxBusyJobs bounds busyBackoff's memory: past it, the counts start again.
const maxBusyJobs = 10_000

func (b *busyBackoff) next(id uuid.UUID, base time.Duration) time.Duration {
	b.mu.Lock()
	if b.n == nil || len(b.n) >= maxBusyJobs {
		b.n = map[uuid.UUID]int{}
	}
	n := b.n[id]
	b.n[id] = n + 1
	b.mu.Unlock()
	d := min(base<<min(n, 16), maxBusySnoozeFactor*base)
	return d/2 + rand.N(d/2+1)
}

func (b *busyBackoff) reset(id uuid.UUID) {
	b.mu.Lock()
	delete(b.n, id)
	b.mu.Unlock()
}

// jobError tells the queue what to do with a failed image: a provider's rate limit
// snoozes the job for the provider's wait without spending an attempt (a busy provider
// for a growing, jittered wait: see busyBackoff); safety blocks, invalid requests, bad
// keys and input the engine cannot use fail it at once with a readable message;
// anything else retries with backoff.
func (h *Handlers) jobError(job *queue.Job, err error) error {
	var pe *errPermanent
	if errors.As(err, &pe) {
		return queue.Permanent(err)
	}
	var ae *ai.Error
	if errors.As(err, &ae) {
		switch ae.Class {
		case ai.RateLimited:
			if ae.Code == "provider_busy" && ae.RetryAfter > 0 {
				return queue.SnoozeErr(h.busy.next(job.ID, ae.RetryAfter), err)
			}
			return queue.SnoozeErr(ae.RetryAfter, err)
		case ai.Permanent, ai.Auth:
			return queue.Permanent(err)
		}
	}
	return err
}
