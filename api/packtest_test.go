package api_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
)

// testPackOptions say how newTestPack builds the pack domain.
type testPackOptions struct {
	store     db.Store
	blobs     pack.Blobs
	providers pack.Providers
	logger    *slog.Logger
	packURL   func(uuid.UUID) string
	maxUpload int64
	spend     pack.SpendLimits
	// profile renders a marketplace; nil is the real one (testProfile is faster).
	profile func(string) (imaging.Profile, error)
	// announcer hears the domain's changes and progress; nil hears nothing.
	announcer pack.Announcer
	// queue is the queue client's configuration; its Hooks and Workers are set here.
	queue queue.Config
}

// testPack is the pack domain built as the server builds it: watchers, projection and
// handlers, the queue client made with them (not started; stopped when the test ends),
// then the service over it.
type testPack struct {
	svc   *pack.Service
	queue *queue.Client
}

func newTestPack(t testing.TB, o testPackOptions) *testPack {
	t.Helper()
	if o.announcer == nil {
		o.announcer = pack.Silent{}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	watchers := pack.NewWatchers(o.announcer)
	handlers := pack.NewHandlers(pack.HandlersConfig{
		Store: o.store, Blobs: o.blobs, Providers: o.providers, Announcer: watchers,
		Logger: o.logger, ProfileFunc: o.profile, MaxAttempts: 3,
	})
	qcfg := o.queue
	qcfg.Hooks = pack.NewProjection(watchers).Hooks()
	qcfg.Workers = queue.NewWorkers()
	handlers.AddTo(qcfg.Workers)
	if qcfg.Logger == nil {
		qcfg.Logger = o.logger
	}
	if qcfg.Notifier == nil {
		qcfg.Notifier = notifiertest.New(t, o.store.Pool(), notifier.Config{Logger: o.logger})
	}
	qc := queue.NewClient(o.store, qcfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = qc.Stop(ctx)
	})
	svc := pack.New(pack.Config{
		Store: o.store, Blobs: o.blobs, Enqueuer: qc, Watchers: watchers,
		Providers: o.providers, Logger: o.logger, PackURLFunc: o.packURL,
		MaxUploadBytes: o.maxUpload, ProfileFunc: o.profile, Spend: o.spend,
	})
	return &testPack{svc: svc, queue: qc}
}

// announcerFuncs is an Announcer made of functions; a nil one drops its signal.
type announcerFuncs struct {
	changed  func(pack.Change)
	progress func(pack.JobProgress)
}

func (a announcerFuncs) ProjectChanged(c pack.Change) {
	if a.changed != nil {
		a.changed(c)
	}
}

func (a announcerFuncs) JobProgress(p pack.JobProgress) {
	if a.progress != nil {
		a.progress(p)
	}
}
