package trpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

// TestSSERefusedBeforeItStarts connects to a subscription without credentials and past
// the per-address cap: each is refused with a plain HTTP error (401, 429), not a 200
// stream whose first event is "connected", which EventSource would reconnect to at once.
func TestSSERefusedBeforeItStarts(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{
		MaxConnsPerIP: 1,
		AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
			if req.Header.Get("X-User") == "" {
				return nil, errors.New("no token")
			}
			return ctx, nil
		},
	})
	Subscription(r, "wait", func(ctx context.Context, in Void, _ string, send func(Event[int]) error) error {
		<-ctx.Done()
		return ctx.Err()
	})
	srv := httptest.NewServer(r.HTTPHandler())
	t.Cleanup(srv.Close)
	connect := func(user string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/wait", nil)
		req.Header.Set("Accept", "text/event-stream")
		if user != "" {
			req.Header.Set("X-User", user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := connect("")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "connected") || !strings.Contains(string(body), "UNAUTHORIZED") {
		t.Errorf("SSE without credentials: %d %s; want HTTP 401 UNAUTHORIZED before any event", resp.StatusCode, body)
	}
	if ok := connect("alice"); ok.StatusCode != http.StatusOK {
		t.Fatalf("SSE with credentials: %d", ok.StatusCode)
	}
	resp = connect("alice")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || strings.Contains(string(body), "connected") {
		t.Errorf("SSE past the per-address cap: %d %s; want HTTP 429 before any event", resp.StatusCode, body)
	}
}
