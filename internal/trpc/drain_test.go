package trpc

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewReader(res.Body)
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "id: 1\n" {
			break
		}
	}
	shutdownCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = r.Shutdown(shutdownCtx) }()
	rest, _ := io.ReadAll(lines)
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
