package trpc

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSSETokenExpiry holds an SSE stream open past its caller's credential expiry: the
// stream ends then, without a "return" event (so EventSource reconnects with fresh
// credentials and resumes), instead of running for as long as the client likes.
func TestSSETokenExpiry(t *testing.T) {
	t.Parallel()
	started := make(chan string, 1)
	b := newLimitsBundle(t, Config{}, started, nil)
	base := b.router.cfg.SessionFunc
	b.router.cfg.SessionFunc = func(ctx context.Context) Session {
		s := base(ctx)
		s.Expires = time.Now().Add(time.Hour)
		return s
	}
	expire := make(chan func(), 1)
	b.router.expiryAfterFunc = func(d time.Duration, f func()) func() bool {
		expire <- f
		return func() bool { return true }
	}
	s := b.sse(t, "10.0.0.1", "alice")
	<-started
	select {
	case f := <-expire:
		f() // the token's exp passes
	case <-time.After(10 * time.Second):
		t.Fatal("the SSE stream armed no expiry for its caller's credentials")
	}
	rest, err := io.ReadAll(s.rd)
	if err != nil {
		t.Fatalf("stream after expiry: %v", err)
	}
	if strings.Contains(string(rest), "event: return") || strings.Contains(string(rest), "serialized-error") {
		t.Errorf("stream ended with %q; want it cut without return, so the client reconnects", rest)
	}
	// The server carries on.
	b.sse(t, "10.0.0.1", "alice")
}
