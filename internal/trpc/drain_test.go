package trpc

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// An SSE reconnect that reaches a draining router must not get an error status:
// EventSource gives up for good on one. It gets an event stream that asks to retry
// and ends at once, as a dropped connection does.
func TestSSEReconnectDuringDrainIsRetried(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{SSERetry: 250 * time.Millisecond})
	Subscription(r, "ticks", func(ctx context.Context, in Void, last string, send func(Event[int]) error) error {
		if err := send(Event[int]{ID: "1", Data: 1}); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	srv := httptest.NewServer(r.HTTPHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)

	// A stream is open when the router starts draining.
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trpc/ticks", nil)
	s := openSSE(t, req)
	for !strings.HasSuffix(s.next(), "\nid: 1\n") { // up to the first value
	}
	shutdownCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = r.Shutdown(shutdownCtx) }()
	rest, _ := io.ReadAll(s.rd)
	if strings.Contains(string(rest), "event: return") {
		t.Fatalf("a drained stream must end without return: %q", rest)
	}

	// EventSource reconnects, with Last-Event-ID, to the same (still draining) router.
	req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL+"/trpc/ticks", nil)
	req.Header.Set("Last-Event-ID", "1")
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != http.StatusOK || res2.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("reconnect during drain: %d %s %s: EventSource would give up", res2.StatusCode, res2.Header.Get("Content-Type"), body)
	}
	if want := ": server is shutting down, reconnect\nretry: 250\n\n"; string(body) != want {
		t.Errorf("reconnect during drain: body %q, want %q", body, want)
	}

	// Without Config.SSERetry the drain still names a delay.
	r2 := NewRouter(Config{})
	Subscription(r2, "ticks", func(ctx context.Context, in Void, last string, send func(Event[int]) error) error { return nil })
	_ = r2.Shutdown(ctx)
	rec := httptest.NewRecorder()
	r2.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/trpc/ticks", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "\nretry: 1000\n") {
		t.Errorf("drain without SSERetry: %d %q", rec.Code, rec.Body.String())
	}
}

// A query in flight when the reconnect notice of an expired token goes out is
// answered on the old socket, even when it runs past the AuthTimeout grace: the
// socket closes only after its answer. (wsLink keeps the old socket for the calls
// it sent there and fails them if the socket closes first.)
func TestWebSocketExpiryAnswersCallsInFlight(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := newLimitsBundle(t, Config{AuthTimeout: time.Hour}, nil, release)
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
	grace := make(chan func(), 1)
	b.router.graceAfterFunc = func(d time.Duration, f func()) func() bool {
		grace <- f
		return func() bool { return true }
	}
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":1,"method":"query","params":{"path":"block"}}`)
	w.alive() // the query is running
	(<-expire)()
	if got := w.read(); got != `{"id":null,"method":"reconnect"}` {
		t.Fatalf("at expiry: got %s; want the reconnect notice", got)
	}
	graceOver := make(chan struct{})
	go func() { (<-grace)(); close(graceOver) }()
	<-graceOver
	w.alive() // still open: a call is running
	close(release)
	if got := w.read(); got != `{"id":1,"result":{"type":"data","data":"done"}}` {
		t.Fatalf("the call in flight at the notice: got %s", got)
	}
	if st := w.closed(); st != websocket.StatusPolicyViolation {
		t.Errorf("after the last answer: close %v, want 1008", st)
	}
}
