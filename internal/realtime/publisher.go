package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/lifecycle"
	"github.com/packshot/packshot/internal/notifier"
)

// Notifier is what realtime needs of the instance's Postgres notifier
// (*notifier.Notifier): the publisher rings doorbells through Notify, the broker hears
// them through Listen and reports Ready as its health.
type Notifier interface {
	Listen(topic string, h notifier.Handler) (unlisten func())
	Notify(ctx context.Context, topic string, payloads ...string) error
	Ready() error
}

// PublisherConfig configures a Publisher. The zero value is usable.
type PublisherConfig struct {
	// FlushInterval is the least time between two NOTIFY transactions: doorbells that
	// arrive meanwhile wait and are sent together. Defaults to 20 ms.
	FlushInterval time.Duration
	// ProgressInterval is the least time between two sends of progress for one project
	// from this instance. Defaults to 100 ms (10 updates per second).
	ProgressInterval time.Duration
	// Logger receives send failures. Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives DoorbellsSent.
	Metrics *Metrics
}

// Publisher sends doorbells and progress to every instance through the notifier,
// batched, and hands them at once to this instance's hub (if a Broker runs here).
// Publish and PublishProgress never block on the database; the goroutine Start starts
// does the sending.
type Publisher struct {
	n   Notifier
	cfg PublisherConfig

	failures int // consecutive failed sends; only the sending goroutine touches it

	local atomic.Pointer[[]*Hub] // this instance's hubs, served without waiting for NOTIFY

	localMu sync.Mutex // serialises changes of local
	runner  lifecycle.Runner

	mu        sync.Mutex
	doorbells map[uuid.UUID]message               // by project, highest version
	progress  map[uuid.UUID]map[uuid.UUID]message // by project, then job: latest
	wake      chan struct{}
}

// NewPublisher returns a Publisher that sends through n. Call Start to start sending.
func NewPublisher(n Notifier, cfg PublisherConfig) *Publisher {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 20 * time.Millisecond
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Publisher{
		n:         n,
		cfg:       cfg,
		doorbells: map[uuid.UUID]message{},
		progress:  map[uuid.UUID]map[uuid.UUID]message{},
		wake:      make(chan struct{}, 1),
	}
}

// Publish announces a project's new version to every instance's subscribers. Call it
// after the transaction that bumped the version has committed, never inside it. It
// returns at once: this instance's subscribers are served without waiting for the
// NOTIFY, the others' within FlushInterval. Doorbells for one project that are queued
// together are sent once, with the highest version (or with none, if one of them had
// none).
func (p *Publisher) Publish(d Change) {
	if hubs := p.local.Load(); hubs != nil {
		for _, h := range *hubs {
			h.Ring(d)
		}
	}
	p.mu.Lock()
	m := message{Kind: kindDoorbell, ProjectID: d.ProjectID, UserID: d.UserID, Version: d.Version}
	if cur, ok := p.doorbells[d.ProjectID]; !ok || replaces(m, cur) {
		p.doorbells[d.ProjectID] = m
	}
	p.mu.Unlock()
	p.signal()
}

// replaces reports whether doorbell m supersedes cur, queued for the same project. A
// doorbell without a version (0: "reload, the version is unknown", as the queue's
// after-commit hook sends) supersedes any versioned one and is never superseded: merged
// into the versioned one, a hub that already holds that version would skip the reload and
// miss the change.
func replaces(m, cur message) bool {
	return cur.Version > 0 && (m.Version <= 0 || m.Version > cur.Version)
}

// PublishProgress announces a job's in-memory progress to every instance's subscribers
// of its project. It returns at once; only the latest progress of each job is kept, and
// each project's progress is sent at most once per ProgressInterval. Progress is a hint
// for the eye: it is not persisted here and may be dropped if the database is
// unreachable.
func (p *Publisher) PublishProgress(pr Progress) {
	if hubs := p.local.Load(); hubs != nil {
		for _, h := range *hubs {
			h.ReportProgress(pr)
		}
	}
	p.mu.Lock()
	jobs := p.progress[pr.ProjectID]
	if jobs == nil {
		jobs = map[uuid.UUID]message{}
		p.progress[pr.ProjectID] = jobs
	}
	jobs[pr.JobID] = message{Kind: kindProgress, ProjectID: pr.ProjectID, UserID: pr.UserID,
		JobID: pr.JobID, Progress: pr.Progress, Stage: pr.Stage}
	p.mu.Unlock()
	p.signal()
}

func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// addLocal makes p serve h directly; the returned function stops it.
func (p *Publisher) addLocal(h *Hub) (remove func()) {
	p.localMu.Lock()
	defer p.localMu.Unlock()
	var hubs []*Hub
	if cur := p.local.Load(); cur != nil {
		hubs = slices.Clone(*cur)
	}
	hubs = append(hubs, h)
	p.local.Store(&hubs)
	return sync.OnceFunc(func() {
		p.localMu.Lock()
		defer p.localMu.Unlock()
		hubs := slices.DeleteFunc(slices.Clone(*p.local.Load()), func(x *Hub) bool { return x == h })
		p.local.Store(&hubs)
	})
}

// Start starts sending. The sending runs until Stop, not until ctx ends: jobs that
// finish during the shutdown grace still announce their changes. Start may be called
// once.
func (p *Publisher) Start(ctx context.Context) error {
	if err := p.runner.Run(ctx, p.run); err != nil {
		return fmt.Errorf("realtime publisher: %w", err)
	}
	return nil
}

// Stop stops sending after a last attempt (of up to a second) to send what is queued,
// and waits for that attempt even when ctx has already ended: at the end of a shutdown
// grace spent waiting for jobs, the doorbells of those jobs' releases are the last news
// other instances get of them. It is safe to call more than once, and a no-op without
// Start.
func (p *Publisher) Stop(context.Context) error {
	done, ok := p.runner.Halt()
	if !ok {
		return nil
	}
	// The last flush bounds itself (a second); this only guards against a send that
	// does not return.
	ctx, cancel := context.WithTimeout(context.Background(), lastFlushWait)
	defer cancel()
	return lifecycle.Wait(ctx, done, "realtime publisher")
}

// lastFlushWait is the longest Stop waits for the last send.
const lastFlushWait = 3 * time.Second

// run sends queued doorbells until ctx is done, then makes a last attempt to send what
// is still queued (for up to a second).
func (p *Publisher) run(ctx context.Context) {
	var lastFlush, lastProgress time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			p.flush(fctx, true)
			cancel()
			return
		case <-p.wake:
		case <-timer.C:
		}
		now := time.Now()
		if wait := p.interval() - now.Sub(lastFlush); wait > 0 {
			timer.Reset(wait)
			continue
		}
		withProgress := now.Sub(lastProgress) >= p.cfg.ProgressInterval
		sent, progressLeft := p.flush(ctx, withProgress)
		if sent {
			lastFlush = now
		}
		if withProgress {
			lastProgress = now
		}
		if progressLeft {
			timer.Reset(p.cfg.ProgressInterval - time.Since(lastProgress))
		}
		if p.pending() {
			timer.Reset(p.interval())
		}
	}
}

// interval is the time to leave after a send: FlushInterval, doubled for each send that
// failed in a row (up to a second), so an unreachable database is not hammered.
func (p *Publisher) interval() time.Duration {
	return min(p.cfg.FlushInterval<<min(p.failures, 10), max(p.cfg.FlushInterval, time.Second))
}

// pending reports whether doorbells wait to be sent.
func (p *Publisher) pending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.doorbells) > 0
}

// flush sends the queued doorbells (and progress, if withProgress) in one transaction. A
// failed send puts the doorbells back, keeping any newer version queued meanwhile. It
// reports whether it sent anything and whether progress is still waiting.
func (p *Publisher) flush(ctx context.Context, withProgress bool) (sent, progressLeft bool) {
	p.mu.Lock()
	doorbells := p.doorbells
	if len(doorbells) > 0 {
		p.doorbells = map[uuid.UUID]message{}
	}
	var progress map[uuid.UUID]map[uuid.UUID]message
	if withProgress && len(p.progress) > 0 {
		progress = p.progress
		p.progress = map[uuid.UUID]map[uuid.UUID]message{}
	}
	progressLeft = len(p.progress) > 0
	p.mu.Unlock()
	if len(doorbells) == 0 && len(progress) == 0 {
		return false, progressLeft
	}

	now := time.Now().UnixMicro()
	msgs := make([]message, 0, len(doorbells)+len(progress))
	for _, m := range doorbells {
		m.SentAt = now
		msgs = append(msgs, m)
	}
	for _, jobs := range progress {
		for _, m := range jobs {
			m.SentAt = now
			msgs = append(msgs, m)
		}
	}
	err := p.send(ctx, msgs)
	if err == nil {
		p.failures = 0
		p.cfg.Metrics.sent(len(msgs))
		return true, progressLeft
	}
	if p.failures == 0 || p.failures%50 == 0 {
		p.cfg.Logger.Warn("realtime: send doorbells", "err", err, "doorbells", len(doorbells), "failures", p.failures+1)
	}
	p.failures++
	p.mu.Lock()
	for id, m := range doorbells {
		if cur, ok := p.doorbells[id]; !ok || replaces(m, cur) {
			p.doorbells[id] = m
		}
	}
	p.mu.Unlock()
	return true, progressLeft
}

// send NOTIFYs msgs in one statement.
func (p *Publisher) send(ctx context.Context, msgs []message) error {
	payloads, err := encodePayloads(msgs, maxPayload)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.n.Notify(ctx, Channel, payloads...)
}
