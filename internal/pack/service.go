package pack

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/queue"
)

// Blobs is where photos and images are kept; internal/storage implements it.
type Blobs interface {
	// Put stores data and returns its key.
	Put(ctx context.Context, data []byte, contentType string) (key string, err error)
	// Get returns the data stored under key.
	Get(ctx context.Context, key string) ([]byte, error)
	// URL returns a signed URL that serves key without credentials for a while.
	URL(key string) string
}

// Enqueuer is what the Service uses of the job queue; *queue.Client implements it.
type Enqueuer interface {
	// EnqueueTx inserts a job inside the caller's transaction q.
	EnqueueTx(ctx context.Context, q db.Querier, p queue.EnqueueParams) (*queue.Job, error)
	// Wake tells dispatchers about jobs committed by EnqueueTx or RetryTx.
	Wake()
	// Get returns a job; ENOTFOUND when there is none.
	Get(ctx context.Context, id uuid.UUID) (*queue.Job, error)
	// List returns jobs newest first.
	List(ctx context.Context, p queue.ListParams) ([]*queue.Job, error)
	// Retry puts a failed or cancelled job back to pending.
	Retry(ctx context.Context, id uuid.UUID) (*queue.Job, error)
	// RetryTx is Retry inside the caller's transaction q.
	RetryTx(ctx context.Context, q db.Querier, id uuid.UUID) (*queue.Job, error)
	// Cancel cancels a pending or running job.
	Cancel(ctx context.Context, id uuid.UUID) (*queue.Job, error)
	// Stats counts jobs per status.
	Stats(ctx context.Context) ([]queue.StatusStat, error)
}

// Config is what a Service needs.
type Config struct {
	// Store is the database. Required.
	Store db.Store
	// Blobs stores photos and images. Required.
	Blobs Blobs
	// Enqueuer enqueues, cancels and retries jobs (the queue client). Required.
	Enqueuer Enqueuer
	// Watchers announce every change the service commits and serve Changed. Required.
	Watchers *Watchers
	// Providers are the AI services the jobs use (for the spend estimates and to refuse
	// custom images without a generator); the zero value means the local engine only.
	Providers Providers
	// Logger receives errors not returned to callers. Required.
	Logger *slog.Logger
	// PackURLFunc returns the signed download URL of a project's pack.zip (an absolute
	// path, usable in an <a href> without headers). Required.
	PackURLFunc func(projectID uuid.UUID) string
	// MaxUploadBytes caps an uploaded photo, in bytes. Defaults to config.DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// ProfileFunc returns a marketplace's canvas and rules. Defaults to
	// imaging.ProfileFor; tests render on a smaller canvas to stay fast.
	ProfileFunc func(marketplace string) (imaging.Profile, error)
	// Spend caps AI jobs in flight and AI spend per user and per day. The zero value
	// limits nothing.
	Spend SpendLimits
}

// Service is the request side of the pack domain: projects, uploads, generation
// requests, jobs and snapshots. The jobs themselves run in Handlers. It is safe for
// concurrent use.
type Service struct {
	cfg   Config
	store db.Store
	log   *slog.Logger
	queue Enqueuer
	watch *Watchers
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = config.DefaultMaxUploadBytes
	}
	if cfg.ProfileFunc == nil {
		cfg.ProfileFunc = imaging.ProfileFor
	}
	return &Service{cfg: cfg, store: cfg.Store, log: cfg.Logger, queue: cfg.Enqueuer, watch: cfg.Watchers}
}

// Providers returns the providers the service uses.
func (s *Service) Providers() Providers { return s.cfg.Providers }

// changed announces, after commit, that a project changed.
func (s *Service) changed(c Change) { s.watch.ProjectChanged(c) }

// Changed returns a channel closed at the next change of the project made through this
// process (its own requests and the jobs its dispatcher runs). Long-polling requests
// wait on it, then re-read.
func (s *Service) Changed(projectID uuid.UUID) <-chan struct{} { return s.watch.Changed(projectID) }

// ownedProject returns the project id if the caller may see it, else ENOTFOUND (never
// EFORBIDDEN, so that another user's ids look like unknown ones).
func (s *Service) ownedProject(ctx context.Context, q db.Querier, c Caller, id uuid.UUID, lock bool) (db.Project, error) {
	var p db.Project
	var err error
	if lock {
		p, err = q.ProjectLock(ctx, id)
	} else {
		p, err = q.ProjectGet(ctx, id)
	}
	if db.IsNotFound(err) || (err == nil && !c.Admin && p.UserID != c.UserID) {
		return db.Project{}, apperr.NotFound("project")
	}
	if err != nil {
		return db.Project{}, fmt.Errorf("load project: %w", err)
	}
	return p, nil
}

// loadParts reads everything a snapshot is built from.
func (s *Service) loadParts(ctx context.Context, q db.Querier, p db.Project) (snapshotParts, error) {
	parts := snapshotParts{project: p}
	src, err := q.SourceImageGet(ctx, p.ID)
	switch {
	case err == nil:
		parts.source = &src
	case !db.IsNotFound(err):
		return parts, fmt.Errorf("load source image: %w", err)
	}
	if parts.latest, err = q.ProjectLatestJobs(ctx, p.ID); err != nil {
		return parts, fmt.Errorf("load jobs: %w", err)
	}
	if parts.images, err = q.GeneratedImageListCurrent(ctx, p.ID); err != nil {
		return parts, fmt.Errorf("load images: %w", err)
	}
	return parts, nil
}

func (s *Service) build(parts snapshotParts) Snapshot {
	return parts.build(s.cfg.Blobs.URL, s.cfg.PackURLFunc)
}

// snapshotIn builds the snapshot of a project inside a transaction.
func (s *Service) snapshotIn(ctx context.Context, q db.Querier, p db.Project) (Snapshot, error) {
	parts, err := s.loadParts(ctx, q, p)
	if err != nil {
		return Snapshot{}, err
	}
	return s.build(parts), nil
}

// Snapshot returns a project's snapshot whatever its owner: realtime uses it after
// checking the subscriber may see the project. Errors: ENOTFOUND.
func (s *Service) Snapshot(ctx context.Context, projectID uuid.UUID) (Snapshot, error) {
	return s.Get(ctx, Caller{Admin: true}, projectID.String())
}

// readTx runs fn in a read-only repeatable-read transaction, so every part of a snapshot
// comes from one consistent moment.
func (s *Service) readTx(ctx context.Context, fn func(q db.Querier) error) error {
	return s.store.InTx(ctx, fn, db.RepeatableRead, db.ReadOnly)
}
