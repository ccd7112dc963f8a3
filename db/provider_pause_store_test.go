package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/pgtest"
)

func TestPauseStoreOnlyExtends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t).Store
	pauses := db.NewPauseStore(store)
	now := time.Now().Truncate(time.Microsecond) // timestamptz keeps microseconds

	until, err := pauses.PausedUntil(ctx, "openai")
	if err != nil || !until.IsZero() {
		t.Fatalf("never paused: until %v, err %v; want the zero time", until, err)
	}
	steps := []struct {
		until      time.Time
		reason     string
		wantUntil  time.Time
		wantReason string
	}{
		{now.Add(10 * time.Second), "rate_limited: first", now.Add(10 * time.Second), "rate_limited: first"},
		{now.Add(5 * time.Second), "breaker: shorter", now.Add(10 * time.Second), "rate_limited: first"},
		{now.Add(20 * time.Second), "breaker: longer", now.Add(20 * time.Second), "breaker: longer"},
	}
	for _, s := range steps {
		if err := pauses.Pause(ctx, "openai", s.until, s.reason); err != nil {
			t.Fatalf("pause: %v", err)
		}
		until, err := pauses.PausedUntil(ctx, "openai")
		if err != nil || !until.Equal(s.wantUntil) {
			t.Fatalf("after pausing until %v: until %v, err %v; want %v", s.until, until, err, s.wantUntil)
		}
		row, err := store.ProviderPauseGet(ctx, "openai")
		if err != nil || row.Reason != s.wantReason {
			t.Fatalf("reason %q, err %v; want %q", row.Reason, err, s.wantReason)
		}
	}
	// Pauses are per provider.
	if until, err := pauses.PausedUntil(ctx, "gemini"); err != nil || !until.IsZero() {
		t.Fatalf("gemini: until %v, err %v; want not paused", until, err)
	}
}
