// Package notifiertest gives tests a started notifier.Notifier on their database.
package notifiertest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/notifier"
)

// New returns a started Notifier on pool, stopped when t ends (before the pool closes,
// if the pool was opened before this call). Its log is discarded unless cfg has one.
// It does not wait for the connection: wait on a Handler's Connected for that.
func New(t testing.TB, pool *pgxpool.Pool, cfg notifier.Config) *notifier.Notifier {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n := notifier.New(pool, cfg)
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("notifiertest: %v", err)
		}
	})
	return n
}
