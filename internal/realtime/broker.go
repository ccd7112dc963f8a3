package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/lifecycle"
	"github.com/packshot/packshot/internal/notifier"
)

// Config configures a Broker.
type Config struct {
	// Notifier is the instance's Postgres notifier: the broker hears every instance's
	// doorbells through it and reports its readiness. Required.
	Notifier Notifier
	// Publisher is the instance's publisher (built before the broker, since the code
	// that changes projects publishes through it): the broker serves this instance's
	// subscribers with what it publishes without waiting for the NOTIFY. Required.
	Publisher *Publisher
	// Hub configures the hub that keeps the subscriptions.
	Hub HubConfig
	// Metrics, if set, receives the hub's measurements (unless Hub.Metrics is set) and
	// DoorbellsReceived.
	Metrics *Metrics
	// Logger, if set, is the hub's logger unless it has its own, and receives undecodable
	// payloads. Defaults to discarding.
	Logger *slog.Logger
}

// Broker is realtime for one instance: a Hub that hears doorbells through the notifier
// and is served directly by the instance's Publisher. Subscription handlers call
// SubscribeProject, SubscribeUser and SubscribeJobs; readiness calls Healthy.
type Broker struct {
	hub         *Hub
	publisher   *Publisher
	n           Notifier
	metrics     *Metrics
	logger      *slog.Logger
	removeLocal func()

	runner   lifecycle.Runner
	mu       sync.Mutex
	unlisten func() // set by Start
}

// New returns a Broker for cfg. The publisher serves its hub from now on; call Start to
// have it load snapshots and hear other instances.
func New(cfg Config) *Broker {
	if cfg.Hub.Metrics == nil {
		cfg.Hub.Metrics = cfg.Metrics
	}
	if cfg.Hub.Logger == nil {
		cfg.Hub.Logger = cfg.Logger
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hub := NewHub(cfg.Hub)
	return &Broker{
		hub:         hub,
		publisher:   cfg.Publisher,
		n:           cfg.Notifier,
		metrics:     cfg.Metrics,
		logger:      cfg.Logger,
		removeLocal: cfg.Publisher.addLocal(hub),
	}
}

// Start starts the hub's loaders and listens on Channel through the notifier; every
// (re)connect of the notifier resyncs every subscriber. They run until Stop, not until
// ctx ends. Start may be called once.
func (b *Broker) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.runner.Run(ctx, func(ctx context.Context) { _ = b.hub.Run(ctx) }); err != nil {
		return fmt.Errorf("realtime broker: %w", err)
	}
	b.unlisten = b.n.Listen(Channel, notifier.Handler{
		Notify:       b.receive,
		Connected:    b.hub.Resync,
		Disconnected: b.hub.Disconnected,
	})
	return nil
}

// Stop stops listening and serving, and waits until the hub's loads have ended, or ctx
// ends. It is safe to call more than once, and a no-op without Start. It does not stop
// the publisher or the notifier: their owner does, afterwards.
func (b *Broker) Stop(ctx context.Context) error {
	b.mu.Lock()
	unlisten := b.unlisten
	b.mu.Unlock()
	done, ok := b.runner.Halt()
	if !ok {
		return nil
	}
	unlisten()
	b.removeLocal()
	return lifecycle.Wait(ctx, done, "realtime broker")
}

// receive hands one notification's messages to the hub.
func (b *Broker) receive(payload string) {
	msgs, err := decodePayload(payload)
	if err != nil {
		b.logger.Warn("realtime: bad payload", "err", err)
		return
	}
	if len(msgs) > 0 {
		b.metrics.received(len(msgs))
		b.hub.Receive(msgs)
	}
}

// Publish announces a project's new version to every instance's subscribers; see
// Publisher.Publish.
func (b *Broker) Publish(d Change) { b.publisher.Publish(d) }

// PublishProgress announces a job's in-memory progress to every instance's subscribers
// of its project; see Publisher.PublishProgress.
func (b *Broker) PublishProgress(p Progress) { b.publisher.PublishProgress(p) }

// SubscribeProject subscribes to a project's states; see Hub.SubscribeProject.
func (b *Broker) SubscribeProject(projectID uuid.UUID) *Subscription {
	return b.hub.SubscribeProject(projectID)
}

// SubscribeUser subscribes to a user's project list states; see Hub.SubscribeUser.
func (b *Broker) SubscribeUser(userID string) *Subscription {
	return b.hub.SubscribeUser(userID)
}

// SubscribeJobs subscribes to the job feed; see Hub.SubscribeJobs.
func (b *Broker) SubscribeJobs() *Subscription {
	return b.hub.SubscribeJobs()
}

// Healthy returns nil while the notifier's connection is up, else why not. Readiness
// checks call it: without the connection, this instance's subscribers would go stale.
func (b *Broker) Healthy() error { return b.n.Ready() }
