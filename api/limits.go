package api

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pack"
)

// limits protect the service and its users' money: how often one user may enqueue work,
// and how many packs one user may have generating at once. The service role is exempt
// (operators retrying failed jobs in bulk). The AI spend limits (AI jobs in flight, the
// per-user and global daily budgets) are not here: they must be checked in the
// transaction that enqueues the paid jobs, so the pack service enforces them
// (pack.SpendLimits) for every route that enqueues.
type limits struct {
	rate     *rateLimiter // nil: no rate limit
	maxPacks int          // 0: no packs-in-flight limit
	store    db.Store
}

func newLimits(store db.Store, perMinute, maxPacks int) *limits {
	l := &limits{maxPacks: maxPacks, store: store}
	if perMinute > 0 {
		l.rate = newRateLimiter(perMinute, time.Now)
	}
	return l
}

// enqueue admits one call that enqueues work (image.generate, job.retry), or answers
// ERATELIMITED with the time until the caller's next token.
func (l *limits) enqueue(c pack.Caller) error {
	if l == nil || l.rate == nil || c.Admin {
		return nil
	}
	if wait := l.rate.take(c.UserID); wait > 0 {
		return &apperr.Error{Code: apperr.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("too many requests: at most %d a minute; try again in %d s", l.rate.perMinute, int(math.Ceil(wait.Seconds())))}
	}
	return nil
}

// pack admits a complete-pack request: the rate limit, then the packs-in-flight cap
// (pack.CheckPacksInFlight).
func (l *limits) pack(ctx context.Context, c pack.Caller, in pack.PackInput) error {
	if err := l.enqueue(c); err != nil {
		return err
	}
	if l == nil {
		return nil
	}
	return pack.CheckPacksInFlight(ctx, l.store, c, in.ProjectID, l.maxPacks)
}

// rateLimiter is a token bucket per user: perMinute tokens refilled evenly, and as many
// may be spent at once. It lives in memory, so with N instances behind a load balancer a
// user gets up to N times the limit (documented in the README's operations section).
type rateLimiter struct {
	mu        sync.Mutex
	perMinute int
	now       func() time.Time
	buckets   map[string]*bucket
	calls     int
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMinute: perMinute, now: now, buckets: map[string]*bucket{}}
}

// take spends one of user's tokens and returns 0, or returns how long until one is free.
func (r *rateLimiter) take(user string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	perSecond := float64(r.perMinute) / 60
	b := r.buckets[user]
	if b == nil {
		b = &bucket{tokens: float64(r.perMinute), at: now}
		r.buckets[user] = b
	}
	b.tokens = min(float64(r.perMinute), b.tokens+now.Sub(b.at).Seconds()*perSecond)
	b.at = now
	r.calls++
	if r.calls%1024 == 0 {
		r.sweep(now, perSecond)
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
}

// sweep forgets users whose buckets have refilled: they are indistinguishable from new
// ones, so memory stays proportional to recently active users.
func (r *rateLimiter) sweep(now time.Time, perSecond float64) {
	for u, b := range r.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*perSecond >= float64(r.perMinute) {
			delete(r.buckets, u)
		}
	}
}
