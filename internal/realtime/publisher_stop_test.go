package realtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/realtime"
)

// TestPublisherStopSendsAfterTheGrace: a shutdown whose grace was spent waiting for jobs
// stops the publisher with an expired context, then closes the pool. The doorbell queued
// last (a job released at the deadline) still reaches the other instances: Stop waits for
// its own bounded last send instead of returning at once.
func TestPublisherStopSendsAfterTheGrace(t *testing.T) {
	b := setup(t)
	heard := make(chan string, 1)
	connected := make(chan struct{}, 1)
	other := notifiertest.New(t, b.pool, notifier.Config{}) // another instance
	other.Listen(realtime.Channel, notifier.Handler{
		Notify: func(p string) {
			select {
			case heard <- p:
			default:
			}
		},
		Connected: func() {
			select {
			case connected <- struct{}{}:
			default:
			}
		},
	})
	<-connected

	pool, err := pgxpool.New(b.ctx, b.url)
	if err != nil {
		t.Fatal(err)
	}
	pub := realtime.NewPublisher(notifier.New(pool, notifier.Config{}), realtime.PublisherConfig{})
	if err := pub.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	pub.Publish(realtime.Change{ProjectID: id, UserID: "u", Version: 7})
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	_ = pub.Stop(expired)
	pool.Close() // what the process does next

	select {
	case p := <-heard:
		if want := id.String(); !strings.Contains(p, want) {
			t.Fatalf("heard %q; want the doorbell of %s", p, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the last doorbell was lost: the publisher stopped without sending it")
	}
}
