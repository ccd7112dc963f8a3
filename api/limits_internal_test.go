package api

import (
	"context"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
)

func TestRateLimiterRefillsEvenly(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	r := newRateLimiter(2, func() time.Time { return now })
	for i := range 2 {
		if wait := r.take("alice"); wait != 0 {
			t.Fatalf("call %d of the minute waits %v; the first two must pass", i+1, wait)
		}
	}
	if wait := r.take("alice"); wait != 30*time.Second {
		t.Fatalf("third call waits %v; want 30s (one token every 30 s)", wait)
	}
	if r.take("bob") != 0 {
		t.Fatal("one user's limit must not touch another's")
	}
	now = now.Add(30 * time.Second)
	if wait := r.take("alice"); wait != 0 {
		t.Fatalf("after 30 s a token is back, but the call waits %v", wait)
	}
}

func TestLimitsAnswerTooManyRequestsWithRetryAfter(t *testing.T) {
	t.Parallel()
	l := newLimits(nil, 1, 0)
	user := pack.Caller{UserID: "alice"}
	if err := l.enqueue(user); err != nil {
		t.Fatal(err)
	}
	err := l.enqueue(user)
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.ERATELIMITED || ae.RetryAfter <= 0 {
		t.Fatalf("second call: %v; want ERATELIMITED with a retry time", err)
	}
	if got := mapError(err); got == nil || got.Code != "TOO_MANY_REQUESTS" || got.RetryAfter != ae.RetryAfter {
		t.Fatalf("tRPC error = %+v; want TOO_MANY_REQUESTS carrying the retry time", got)
	}
	if err := l.enqueue(pack.Caller{UserID: "ops", Admin: true}); err != nil {
		t.Fatalf("the service role is exempt: %v", err)
	}
}

func TestPacksInFlightAreCountedAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t).Store
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		p, err := store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "alice", Name: name, Marketplace: "amazon"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID.String())
		if name != "c" {
			if _, err := store.ProjectSetStatus(ctx, db.ProjectSetStatusParams{ID: p.ID, Status: "generating"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Two instances, each with its own limiter, read the same count from the database.
	for i := range 2 {
		l := newLimits(store, 0, 2)
		err := l.pack(ctx, pack.Caller{UserID: "alice"}, pack.PackInput{ProjectID: ids[2]})
		if ae := apperr.As(err); ae == nil || ae.Code != apperr.ERATELIMITED {
			t.Fatalf("instance %d: a third pack while two generate: %v; want ERATELIMITED", i, err)
		}
		// Asking again for a pack that is already generating is not a new pack.
		if err := l.pack(ctx, pack.Caller{UserID: "alice"}, pack.PackInput{ProjectID: ids[0]}); err != nil {
			t.Fatalf("instance %d: repeat for a generating pack refused: %v", i, err)
		}
		if err := l.pack(ctx, pack.Caller{UserID: "bob"}, pack.PackInput{ProjectID: ids[2]}); err != nil {
			t.Fatalf("another user is not limited by alice's packs: %v", err)
		}
	}
}
