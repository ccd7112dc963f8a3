package realtime

import (
	"context"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures a Broker: its hub, publisher and listener.
type Config struct {
	Hub       HubConfig
	Publisher PublisherConfig
	Listener  ListenerConfig
	// Metrics, if set, receives the measurements of all three parts (each part's own
	// Metrics, if set, wins).
	Metrics *Metrics
	// Logger, if set, is every part's logger unless the part has its own.
	Logger *slog.Logger
}

// Broker is realtime for one instance: a Publisher, a Listener and a Hub wired together.
// Code that changed a project calls Publish after commit; subscription handlers call
// SubscribeProject and SubscribeUser; readiness calls Healthy.
type Broker struct {
	hub       *Hub
	publisher *Publisher
	listener  *Listener
}

// New returns a Broker that publishes through pool and listens on its own connection
// made with connString. Call Run to start it.
func New(pool *pgxpool.Pool, connString string, cfg Config) *Broker {
	if cfg.Hub.Metrics == nil {
		cfg.Hub.Metrics = cfg.Metrics
	}
	if cfg.Publisher.Metrics == nil {
		cfg.Publisher.Metrics = cfg.Metrics
	}
	if cfg.Listener.Metrics == nil {
		cfg.Listener.Metrics = cfg.Metrics
	}
	if cfg.Hub.Logger == nil {
		cfg.Hub.Logger = cfg.Logger
	}
	if cfg.Publisher.Logger == nil {
		cfg.Publisher.Logger = cfg.Logger
	}
	if cfg.Listener.Logger == nil {
		cfg.Listener.Logger = cfg.Logger
	}
	hub := NewHub(cfg.Hub)
	return &Broker{
		hub:       hub,
		publisher: NewPublisher(pool, cfg.Publisher),
		listener:  NewListener(connString, hub, cfg.Listener),
	}
}

// Run runs the hub, publisher and listener until ctx is done. It returns nil.
func (b *Broker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = b.hub.Run(ctx) })
	wg.Go(func() { _ = b.publisher.Run(ctx) })
	wg.Go(func() { _ = b.listener.Run(ctx) })
	wg.Wait()
	return nil
}

// Publish announces a project's new version to every instance's subscribers. Call it
// after the transaction that bumped the version has committed; it never blocks. This
// instance's subscribers are served at once, the others within the publisher's flush
// interval.
func (b *Broker) Publish(d Doorbell) {
	b.hub.Ring(d)
	b.publisher.Publish(d)
}

// PublishProgress announces a job's in-memory progress to every instance's subscribers
// of its project (at most 10 overlays per second per project). It never blocks.
func (b *Broker) PublishProgress(p Progress) {
	b.hub.ReportProgress(p)
	b.publisher.PublishProgress(p)
}

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

// Healthy returns nil while the LISTEN connection is up, else why not. Readiness checks
// call it: without the connection, this instance's subscribers would go stale.
func (b *Broker) Healthy() error { return b.listener.Healthy() }

// Hub returns the broker's hub.
func (b *Broker) Hub() *Hub { return b.hub }

// Listener returns the broker's listener.
func (b *Broker) Listener() *Listener { return b.listener }
