package trpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamsOutliveReadTimeout runs an SSE stream and a WebSocket subscription on a
// server with a short ReadTimeout (the one that cuts off slow senders) and checks both
// still deliver an event once that timeout has passed several times over: net/http
// clears the read deadline once a request's body is read and on Hijack, and the SSE
// handler clears it too.
func TestStreamsOutliveReadTimeout(t *testing.T) {
	t.Parallel()
	const readTimeout = 100 * time.Millisecond
	r := NewRouter(Config{})
	release := make(chan struct{})
	Subscription(r, "tick", func(ctx context.Context, in Void, _ string, send func(Event[int]) error) error {
		if err := send(Event[int]{ID: "1", Data: 1}); err != nil {
			return err
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := send(Event[int]{ID: "2", Data: 2}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/trpc/", r.HTTPHandler())
	mux.Handle("/ws", r.WebSocketHandler())
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trpc/tick", nil)
	req.Header.Set("Accept", "text/event-stream")
	sse := openSSE(t, req)
	if got := sse.nextData(); !strings.Contains(got, "1") {
		t.Fatalf("SSE first event: %s", got)
	}

	ws := mustOpenSocket(t, wsURL(srv.URL)+"/ws")
	ws.send(`{"id":1,"method":"subscription","params":{"path":"tick"}}`)
	nextWS := func() string {
		t.Helper()
		return ws.readUntil(func(s string) bool {
			return strings.Contains(s, `"data"`) && strings.Contains(s, `"id":1`) && !strings.Contains(s, `"started"`)
		})
	}
	if got := nextWS(); !strings.Contains(got, `"data":1`) {
		t.Fatalf("WebSocket first event: %s", got)
	}

	// What is tested is that time passes: the read timeout elapses several times over
	// while both streams are idle.
	<-time.After(5 * readTimeout)
	close(release)
	if got := sse.nextData(); !strings.Contains(got, "2") {
		t.Errorf("SSE event after the read timeout: %s", got)
	}
	if got := nextWS(); !strings.Contains(got, `"data":2`) {
		t.Errorf("WebSocket event after the read timeout: %s", got)
	}
}
