package trpc

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// TestWebSocketUnauthenticatedClosed opens sockets that never authenticate on a router
// without public procedures: connectionParams null, a bad token, and no connectionParams
// at all. Each is told UNAUTHORIZED naming the limit and closed at once, instead of
// being held (and counted against its address) forever; a good token is still served.
func TestWebSocketUnauthenticatedClosed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var refused []Limit
	r := NewRouter(Config{
		AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
			if req.ConnectionParams["token"] == "good" || req.Header.Get("X-Token") == "good" {
				return ctx, nil
			}
			return nil, errors.New("bad token")
		},
		LimitRefusedFunc: func(l Limit) { mu.Lock(); refused = append(refused, l); mu.Unlock() },
	})
	Query(r, "me", func(ctx context.Context, in Void) (string, error) { return "me", nil })
	srv := httptest.NewServer(r.WebSocketHandler())
	t.Cleanup(srv.Close)
	url := wsURL(srv.URL)

	for name, tc := range map[string]struct{ query, first string }{
		"connectionParams null":    {"?connectionParams=1", `{"method":"connectionParams","data":null}`},
		"bad token":                {"?connectionParams=1", `{"method":"connectionParams","data":{"token":"bad"}}`},
		"without connectionParams": {"", ""},
	} {
		w := mustOpenSocket(t, url+tc.query)
		if tc.first != "" {
			w.send(tc.first)
		}
		_, msg, err := w.c.Read(w.ctx)
		if err != nil || !strings.HasPrefix(string(msg), `{"id":null,"error":`) || !strings.Contains(string(msg), `"UNAUTHORIZED"`) ||
			!strings.Contains(string(msg), "ws_unauthenticated") {
			t.Errorf("%s: got %s, %v; want an UNAUTHORIZED error naming %s", name, msg, err, "ws_unauthenticated")
		}
		if _, _, err := w.c.Read(w.ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("%s: read %v; want a close 1008", name, err)
		}
		w.c.CloseNow()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != 3 {
		t.Errorf("refusals counted: %v; want 3", refused)
	}
	// The server still answers an authenticated socket.
	w := mustOpenSocket(t, url+"?connectionParams=1")
	for _, m := range []string{`{"method":"connectionParams","data":{"token":"good"}}`, `{"id":1,"method":"query","params":{"path":"me"}}`} {
		w.send(m)
	}
	if _, msg, err := w.c.Read(w.ctx); err != nil || string(msg) != `{"id":1,"result":{"type":"data","data":"me"}}` {
		t.Errorf("authenticated query: got %s, %v", msg, err)
	}
}
