package trpc

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sse := bufio.NewScanner(resp.Body)
	nextData := func() string {
		t.Helper()
		for sse.Scan() {
			// Skip the connected event (its data is {} or carries
			// reconnectAfterInactivityMs) and pings: the first data event follows.
			if line := sse.Text(); strings.HasPrefix(line, "data:") && strings.TrimSpace(strings.TrimPrefix(line, "data:")) != "{}" &&
				strings.TrimSpace(line) != "data:" && !strings.Contains(line, "reconnectAfterInactivityMs") {
				return line
			}
		}
		t.Fatalf("SSE stream ended: %v", sse.Err())
		return ""
	}
	if got := nextData(); !strings.Contains(got, "1") {
		t.Fatalf("SSE first event: %s", got)
	}

	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"id":1,"method":"subscription","params":{"path":"tick"}}`)); err != nil {
		t.Fatal(err)
	}
	nextWS := func() string {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("WebSocket closed: %v", err)
			}
			if s := string(b); strings.Contains(s, `"data"`) && strings.Contains(s, `"id":1`) && !strings.Contains(s, `"started"`) {
				return s
			}
		}
	}
	if got := nextWS(); !strings.Contains(got, `"data":1`) {
		t.Fatalf("WebSocket first event: %s", got)
	}

	// What is tested is that time passes: the read timeout elapses several times over
	// while both streams are idle.
	<-time.After(5 * readTimeout)
	close(release)
	if got := nextData(); !strings.Contains(got, "2") {
		t.Errorf("SSE event after the read timeout: %s", got)
	}
	if got := nextWS(); !strings.Contains(got, `"data":2`) {
		t.Errorf("WebSocket event after the read timeout: %s", got)
	}
}
