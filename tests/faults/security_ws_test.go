//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/auth"
)

// TestWebSocketLimits is issue 13 items 4 and 7 against a running serve: an idle socket,
// one address and one user opening too many connections, one socket opening too many
// subscriptions, a flood of list subscribes, and a socket whose token expires. Each
// attack gets a refusal naming its limit (or the reconnect notice), the other users are
// served throughout, and every refusal is counted in /metrics.
func TestWebSocketLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{
		"PACKSHOT_WORKERS":                "2",
		"PACKSHOT_WS_AUTH_TIMEOUT":        "1s",
		"PACKSHOT_MAX_CONNS_PER_IP":       "5",
		"PACKSHOT_MAX_CONNS_PER_USER":     "3",
		"PACKSHOT_WS_MAX_SUBSCRIPTIONS":   "3",
		"PACKSHOT_WS_MAX_CALLS_IN_FLIGHT": "8",
	})
	srv := s.serve(ctx, "serve", nil)
	base := srv.baseURL()

	t.Run("idle socket", func(t *testing.T) {
		c, _, err := websocket.Dial(ctx, wsURL(base), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		// Send nothing: the server must not hold the socket.
		_, msg, err := c.Read(ctx)
		if err != nil || !strings.Contains(string(msg), "ws_auth_timeout") {
			t.Fatalf("idle socket: %s %v; want an error naming ws_auth_timeout", msg, err)
		}
		if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("idle socket: %v; want a close 1008", err)
		}
	})

	// Five sockets from 127.0.0.1 (alice 3, bob 2), each proven authenticated by a
	// started subscription. The subscription cap is exercised on alice's first.
	var alice []*wsConn
	for i := range 3 {
		alice = append(alice, openSocket(ctx, t, base, token(t, "alice"), fmt.Sprintf("alice %d", i)))
	}
	bob := []*wsConn{openSocket(ctx, t, base, token(t, "bob"), "bob 0"), openSocket(ctx, t, base, token(t, "bob"), "bob 1")}

	t.Run("connections per address", func(t *testing.T) {
		c, resp, err := websocket.Dial(ctx, wsURL(base), nil)
		if err == nil {
			c.CloseNow()
			t.Fatal("a sixth socket from one address was accepted")
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("sixth socket: %v; want HTTP 429", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "TOO_MANY_REQUESTS") || !strings.Contains(string(body), "conns_per_ip") {
			t.Errorf("sixth socket: %s; want TOO_MANY_REQUESTS naming conns_per_ip", body)
		}
	})

	// Bob leaves; once the server has released his slots, alice may try a fourth.
	for _, c := range bob {
		c.close()
	}
	t.Run("connections per user", func(t *testing.T) {
		c := dialFree(ctx, t, base, "alice's fourth socket").c
		defer c.CloseNow()
		sendJSON(ctx, t, c, map[string]any{"method": "connectionParams", "data": map[string]string{"token": token(t, "alice")}})
		_, msg, err := c.Read(ctx)
		if err != nil || !strings.Contains(string(msg), "TOO_MANY_REQUESTS") || !strings.Contains(string(msg), "conns_per_user") {
			t.Fatalf("alice's fourth socket: %s %v; want TOO_MANY_REQUESTS naming conns_per_user", msg, err)
		}
		if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("alice's fourth socket: %v; want a close 1008", err)
		}
	})

	t.Run("subscriptions per socket", func(t *testing.T) {
		a := alice[0] // has subscription 1
		for id := 2; id <= 3; id++ {
			a.subscribeList(id)
			if f := a.frameFor(id); !strings.Contains(f, `"started"`) {
				t.Fatalf("subscription %d: %s", id, f)
			}
		}
		a.subscribeList(4)
		if f := a.frameFor(4); !strings.Contains(f, "TOO_MANY_REQUESTS") || !strings.Contains(f, "ws_subscriptions") {
			t.Errorf("fourth subscription: %s; want TOO_MANY_REQUESTS naming ws_subscriptions", f)
		}
		a.ping()
	})

	t.Run("list subscribe flood", func(t *testing.T) {
		// Bob watches his list on a fresh socket while alice subscribes to hers and stops
		// again 1,000 times, in frames of 100.
		var proj snapshot
		if err := (api{base: base, tok: token(t, "bob")}).call(ctx, true, "project.create", map[string]any{"name": "Bob's"}, &proj); err != nil {
			t.Fatal(err)
		}
		b := openSocket(ctx, t, base, token(t, "bob"), "bob watching")
		a := alice[1]
		// Alice's answers (started, data, stopped for each) are drained as they come,
		// up to the PONG that follows the flood.
		drained := make(chan error, 1)
		for round := range 20 {
			var frame []map[string]any
			for i := range 50 {
				id := 1000 + round*50 + i
				frame = append(frame,
					map[string]any{"id": id, "method": "subscription", "params": map[string]any{"path": "project.onListUpdate"}},
					map[string]any{"id": id, "method": "subscription.stop"})
			}
			sendJSON(ctx, t, a.c, frame)
		}
		if err := a.c.Write(ctx, websocket.MessageText, []byte("PING")); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				_, msg, err := a.c.Read(ctx)
				if err != nil || string(msg) == "PONG" {
					drained <- err
					return
				}
			}
		}()
		if err := (api{base: base, tok: token(t, "bob")}).call(ctx, true, "project.update", map[string]any{"id": proj.ID, "name": "Bob's, renamed"}, nil); err != nil {
			t.Fatal(err)
		}
		for {
			f := b.frameFor(1)
			if strings.Contains(f, "Bob's, renamed") {
				break
			}
		}
		if err := <-drained; err != nil {
			t.Errorf("alice's socket after the flood: %v", err)
		}
		t.Logf("list loads: %s", metricLines(ctx, t, base, "packshot_realtime_user_loads_total", "packshot_realtime_loads_dropped_total"))
	})

	t.Run("token expiry", func(t *testing.T) {
		for _, c := range alice {
			c.close()
		}
		// A token the verifier accepts for a few more seconds (its exp is past, within the
		// leeway): the server expires the socket then, on its own timer.
		tok := signedTokenFor(t, "dave", time.Now().Add(-auth.Leeway+5*time.Second))
		d := dialFree(ctx, t, base, "dave's socket")
		defer d.close()
		sendJSON(ctx, t, d.c, map[string]any{"method": "connectionParams", "data": map[string]string{"token": tok}})
		d.subscribeList(1)
		if f := d.frameFor(1); !strings.Contains(f, `"started"`) {
			t.Fatalf("subscribe with a live token: %s", f)
		}
		for {
			_, msg, err := d.c.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for the reconnect notice: %v", err)
			}
			if string(msg) == `{"id":null,"method":"reconnect"}` {
				break
			}
			if strings.Contains(string(msg), `"stopped"`) {
				t.Errorf("expiry sent %s: wsLink would not resubscribe", msg)
			}
		}
		sendJSON(ctx, t, d.c, map[string]any{"id": 2, "method": "query", "params": map[string]any{"path": "project.list", "input": map[string]any{}}})
		if f := d.frameFor(2); !strings.Contains(f, "UNAUTHORIZED") {
			t.Errorf("call after expiry: %s; want UNAUTHORIZED", f)
		}
		for {
			if _, _, err := d.c.Read(ctx); err != nil {
				if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
					t.Errorf("expired socket: %v; want a close 1008", err)
				}
				break
			}
		}
	})

	// The server still answers, and counted every refusal by its limit.
	if !srv.ready(ctx) {
		t.Fatal("serve stopped answering")
	}
	m := metricLines(ctx, t, base, "packshot_trpc_limit_refusals_total")
	for _, l := range []string{"ws_auth_timeout", "conns_per_ip", "conns_per_user", "ws_subscriptions"} {
		if !strings.Contains(m, `limit="`+l+`"`) {
			t.Errorf("/metrics has no refusal counted for %s:\n%s", l, m)
		}
	}
}

func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws?connectionParams=1"
}

// wsConn is a raw wsLink socket of the test.
type wsConn struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
}

// openSocket connects with tok and subscribes to the caller's list as id 1, waiting for
// "started" (so the connection has authenticated and holds its slots).
func openSocket(ctx context.Context, t *testing.T, base, tok, what string) *wsConn {
	t.Helper()
	w := dialFree(ctx, t, base, what)
	t.Cleanup(w.close)
	sendJSON(ctx, t, w.c, map[string]any{"method": "connectionParams", "data": map[string]string{"token": tok}})
	w.subscribeList(1)
	if f := w.frameFor(1); !strings.Contains(f, `"started"`) {
		t.Fatalf("%s: subscribe: %s", what, f)
	}
	return w
}

// dialFree opens a socket, waiting while the address's slots are still held by sockets
// the test closed and the server has not finished releasing.
func dialFree(ctx context.Context, t *testing.T, base, what string) *wsConn {
	t.Helper()
	var w *wsConn
	waitFor(ctx, t, what+": a free address slot", func(ctx context.Context) (bool, error) {
		c, resp, err := websocket.Dial(ctx, wsURL(base), nil)
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		w = &wsConn{t: t, ctx: ctx, c: c}
		return true, nil
	})
	return w
}

func (w *wsConn) close() { _ = w.c.Close(websocket.StatusNormalClosure, "") }

func (w *wsConn) subscribeList(id int) {
	w.t.Helper()
	sendJSON(w.ctx, w.t, w.c, map[string]any{"id": id, "method": "subscription", "params": map[string]any{"path": "project.onListUpdate"}})
}

// frameFor reads until a frame for id arrives and returns it.
func (w *wsConn) frameFor(id int) string {
	w.t.Helper()
	for {
		_, msg, err := w.c.Read(w.ctx)
		if err != nil {
			w.t.Fatalf("waiting for a frame for id %d: %v", id, err)
		}
		var f struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(msg, &f) == nil && string(f.ID) == fmt.Sprint(id) {
			return string(msg)
		}
	}
}

// ping checks the socket still answers, skipping frames of earlier calls.
func (w *wsConn) ping() {
	w.t.Helper()
	if err := w.c.Write(w.ctx, websocket.MessageText, []byte("PING")); err != nil {
		w.t.Fatal(err)
	}
	for {
		_, msg, err := w.c.Read(w.ctx)
		if err != nil {
			w.t.Fatalf("waiting for PONG: %v", err)
		}
		if string(msg) == "PONG" {
			return
		}
	}
}

func sendJSON(ctx context.Context, t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// signedTokenFor is a token of the suite's secret for user expiring at exp.
func signedTokenFor(t *testing.T, user string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "role": "authenticated", "aud": "authenticated",
		"iat": time.Now().Add(-time.Minute).Unix(), "exp": exp.Unix(),
	}).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// metricLines returns the /metrics lines of the named metrics.
func metricLines(ctx context.Context, t *testing.T, base string, names ...string) string {
	t.Helper()
	r := rawRequest(ctx, t, http.MethodGet, base+"/metrics", "", "", nil)
	var out []string
	for _, l := range strings.Split(string(r.body), "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, n) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
