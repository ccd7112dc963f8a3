package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// notifySQL sends a batch of payloads in one statement, hence one small transaction of
// its own. It is written here rather than in queries/ because it is part of this
// package's wire protocol, not a query over tables, and it must never run inside a
// caller's transaction.
const notifySQL = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

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

// Publisher sends doorbells and progress to every instance through NOTIFY, batched.
// Publish and PublishProgress never block on the database; Run does the sending.
type Publisher struct {
	pool *pgxpool.Pool
	cfg  PublisherConfig

	failures int // consecutive failed sends; only Run's goroutine touches it

	mu        sync.Mutex
	doorbells map[uuid.UUID]message               // by project, highest version
	progress  map[uuid.UUID]map[uuid.UUID]message // by project, then job: latest
	wake      chan struct{}
}

// NewPublisher returns a Publisher that sends through pool. Call Run to start sending.
func NewPublisher(pool *pgxpool.Pool, cfg PublisherConfig) *Publisher {
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
		pool:      pool,
		cfg:       cfg,
		doorbells: map[uuid.UUID]message{},
		progress:  map[uuid.UUID]map[uuid.UUID]message{},
		wake:      make(chan struct{}, 1),
	}
}

// Publish queues a doorbell for d's project. Call it after the transaction that bumped
// the version has committed, never inside it. It returns at once; doorbells for one
// project that are queued together are sent once, with the highest version (or with
// none, if one of them had none).
func (p *Publisher) Publish(d Doorbell) {
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

// PublishProgress queues a job's in-memory progress. It returns at once; only the latest
// progress of each job is kept, and each project's progress is sent at most once per
// ProgressInterval. Progress is a hint for the eye: it is not persisted here and may be
// dropped if the database is unreachable.
func (p *Publisher) PublishProgress(pr Progress) {
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

// Run sends queued doorbells until ctx is done, then makes a last attempt to send what
// is still queued (for up to a second). It returns nil.
func (p *Publisher) Run(ctx context.Context) error {
	var lastFlush, lastProgress time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			p.flush(fctx, true)
			cancel()
			return nil
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
	if _, err := p.pool.Exec(ctx, notifySQL, Channel, payloads); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
