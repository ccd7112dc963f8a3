package pack

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
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

// Change says that a project changed: Version is its new version, or 0 when the
// change came from a job state change whose version the caller did not read.
type Change struct {
	ProjectID uuid.UUID
	UserID    string
	Version   int64
}

// Config is what a Service needs.
type Config struct {
	// Store is the database. Required.
	Store db.Store
	// Blobs stores photos and images. Required.
	Blobs Blobs
	// Providers are the AI services to use; the zero value means the local engine only.
	Providers Providers
	// Logger receives handler and hook errors. Required.
	Logger *slog.Logger
	// PackURLFunc returns the signed download URL of a project's pack.zip (an absolute
	// path, usable in an <a href> without headers). Nil: snapshots carry no packUrl.
	PackURLFunc func(projectID uuid.UUID) string
	// ChangedFunc is called after every commit that changed projects (never inside the
	// transaction); realtime rings its doorbell there. It must not block. Optional.
	ChangedFunc func(changes []Change)
	// MaxUploadBytes caps an uploaded photo, in bytes. Defaults to 25 MiB.
	MaxUploadBytes int64
	// ProfileFunc returns a marketplace's canvas and rules. Defaults to
	// imaging.ProfileFor; tests render on a smaller canvas to stay fast.
	ProfileFunc func(marketplace string) (imaging.Profile, error)
	// Spend caps AI jobs in flight and AI spend per user and per day. The zero value
	// limits nothing.
	Spend SpendLimits
}

// Service is the pack domain: projects, uploads, generation requests, snapshots and the
// job handlers. It is safe for concurrent use.
type Service struct {
	cfg   Config
	store db.Store
	log   *slog.Logger

	// queue enqueues, cancels and retries jobs; set by Attach before serving.
	queue *queue.Client

	watchMu  sync.Mutex
	watchers map[uuid.UUID]chan struct{}

	cutoutMu    sync.Mutex
	cutoutCalls map[string]*cutoutCall

	// busy spaces out the snoozes of jobs that keep finding their provider busy.
	busy busyBackoff
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 25 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ProfileFunc == nil {
		cfg.ProfileFunc = imaging.ProfileFor
	}
	return &Service{
		cfg: cfg, store: cfg.Store, log: cfg.Logger,
		watchers:    map[uuid.UUID]chan struct{}{},
		cutoutCalls: map[string]*cutoutCall{},
	}
}

// Providers returns the providers the service uses.
func (s *Service) Providers() Providers { return s.cfg.Providers }

// changed tells the watchers and ChangedFunc, after commit, that projects changed.
func (s *Service) changed(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	s.watchMu.Lock()
	for _, c := range changes {
		if ch, ok := s.watchers[c.ProjectID]; ok {
			close(ch)
			delete(s.watchers, c.ProjectID)
		}
	}
	s.watchMu.Unlock()
	if s.cfg.ChangedFunc != nil {
		s.cfg.ChangedFunc(changes)
	}
}

// Changed returns a channel closed at the next change of the project made through this
// instance (its own requests and the jobs its dispatcher runs, or any change that
// NotifyChanged is told about). Long-polling requests wait on it, then re-read.
func (s *Service) Changed(projectID uuid.UUID) <-chan struct{} {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	ch, ok := s.watchers[projectID]
	if !ok {
		ch = make(chan struct{})
		s.watchers[projectID] = ch
	}
	return ch
}

// NotifyChanged wakes the watchers of projects changed elsewhere (another instance,
// seen through realtime), without calling ChangedFunc again.
func (s *Service) NotifyChanged(projectIDs ...uuid.UUID) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for _, id := range projectIDs {
		if ch, ok := s.watchers[id]; ok {
			close(ch)
			delete(s.watchers, id)
		}
	}
}

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
	tx, err := s.store.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	return fn(db.New(tx))
}
