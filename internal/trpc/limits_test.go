package trpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// limitsBundle is a router with the connection limits under test, served over a real
// listener so WebSockets and SSE streams stay open.
type limitsBundle struct {
	router *Router
	srv    *httptest.Server

	mu      sync.Mutex
	refused map[Limit]int
}

type limitsUserKey struct{}

// newLimitsBundle serves a router configured by cfg (its AuthFunc, SessionFunc and
// LimitRefusedFunc are set here): the token in connectionParams (or the X-User header) is
// the user; X-Test-IP stands for the client address. Procedures: "wait" (a subscription
// that runs until stopped, telling started), "block" (a query that waits for release),
// "me" (the caller's user).
func newLimitsBundle(t *testing.T, cfg Config, started chan<- string, release <-chan struct{}) *limitsBundle {
	t.Helper()
	b := &limitsBundle{refused: map[Limit]int{}}
	cfg.AuthFunc = func(ctx context.Context, req AuthRequest) (context.Context, error) {
		u := req.ConnectionParams["token"]
		if u == "" {
			u = req.Header.Get("X-User")
		}
		if u == "" {
			return nil, errors.New("no token")
		}
		return context.WithValue(ctx, limitsUserKey{}, u), nil
	}
	cfg.SessionFunc = func(ctx context.Context) Session {
		u, _ := ctx.Value(limitsUserKey{}).(string)
		return Session{User: u}
	}
	cfg.ClientIPFunc = func(req *http.Request) string { return req.Header.Get("X-Test-IP") }
	cfg.LimitRefusedFunc = func(l Limit) {
		b.mu.Lock()
		b.refused[l]++
		b.mu.Unlock()
	}
	b.router = NewRouter(cfg)
	Subscription(b.router, "wait", func(ctx context.Context, in Void, last string, send func(Event[string]) error) error {
		if started != nil {
			started <- "wait"
		}
		<-ctx.Done()
		return ctx.Err()
	}, Public())
	Query(b.router, "block", func(ctx context.Context, in Void) (string, error) {
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, Public())
	Query(b.router, "me", func(ctx context.Context, in Void) (string, error) {
		u, _ := ctx.Value(limitsUserKey{}).(string)
		return u, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/ws", b.router.WebSocketHandler())
	mux.Handle("/trpc/", http.StripPrefix("/trpc", b.router.HTTPHandler()))
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *limitsBundle) refusals(l Limit) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused[l]
}

// dial opens a WebSocket from ip; token, when set, is sent as connectionParams.
func (b *limitsBundle) dial(t *testing.T, ip, token string) (*wsClient, *http.Response, error) {
	t.Helper()
	q := ""
	if token != "" {
		q = "?connectionParams=1"
	}
	w, resp, err := openSocket(t, wsURL(b.srv.URL)+"/ws"+q, http.Header{"X-Test-IP": {ip}})
	if err != nil {
		return nil, resp, err
	}
	if token != "" {
		w.send(`{"method":"connectionParams","data":{"token":"` + token + `"}}`)
	}
	return w, resp, nil
}

// sse opens an SSE stream of "wait" from ip as user (none when empty) and reads its
// connected event.
func (b *limitsBundle) sse(t *testing.T, ip, user string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+"/trpc/wait", nil)
	req.Header.Set("X-Test-IP", ip)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	s := openSSE(t, req)
	if ev := s.next(); !strings.HasPrefix(ev, "event: connected\n") {
		t.Fatalf("first SSE event: %q", ev)
	}
	return s
}

// TestWebSocketAuthTimeout opens sockets with connectionParams=1 and sends nothing: each
// is told which limit it hit and closed, instead of being held forever.
func TestWebSocketAuthTimeout(t *testing.T) {
	t.Parallel()
	b := newLimitsBundle(t, Config{AuthTimeout: 50 * time.Millisecond}, nil, nil)
	idle := mustOpenSocket(t, wsURL(b.srv.URL)+"/ws?connectionParams=1")
	_, msg, err := idle.c.Read(idle.ctx)
	if err != nil || !strings.HasPrefix(string(msg), `{"id":null,"error":`) || !strings.Contains(string(msg), `"TIMEOUT"`) ||
		!strings.Contains(string(msg), string(LimitAuthTimeout)) {
		t.Fatalf("idle socket: got %s, %v; want a TIMEOUT error naming %s", msg, err, LimitAuthTimeout)
	}
	if _, _, err := idle.c.Read(idle.ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("idle socket: read %v; want a close 1008", err)
	}
	if n := b.refusals(LimitAuthTimeout); n != 1 {
		t.Errorf("refusals counted for %s: %d; want 1", LimitAuthTimeout, n)
	}
	// A client that sends its connectionParams in time is served.
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":1,"method":"query","params":{"path":"me"}}`)
	if got := w.read(); got != `{"id":1,"result":{"type":"data","data":"alice"}}` {
		t.Errorf("authenticated query: got %s", got)
	}
}

// TestWebSocketSubscriptionCap opens one subscription more than allowed on a socket: that
// one is refused with an error naming the limit, and the socket and its other
// subscriptions carry on.
func TestWebSocketSubscriptionCap(t *testing.T) {
	t.Parallel()
	b := newLimitsBundle(t, Config{MaxSubscriptions: 2}, nil, nil)
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	for id := range 2 {
		w.send(`{"id":` + string(rune('1'+id)) + `,"method":"subscription","params":{"path":"wait"}}`)
		if got := w.read(); !strings.Contains(got, `"type":"started"`) {
			t.Fatalf("subscription %d: got %s", id+1, got)
		}
	}
	w.send(`{"id":3,"method":"subscription","params":{"path":"wait"}}`)
	got := w.read()
	if !strings.HasPrefix(got, `{"id":3,"error":`) || !strings.Contains(got, `"TOO_MANY_REQUESTS"`) || !strings.Contains(got, string(LimitSubscriptions)) {
		t.Fatalf("third subscription: got %s; want TOO_MANY_REQUESTS naming %s", got, LimitSubscriptions)
	}
	w.alive()
	// Stopping one frees its place.
	w.send(`{"id":1,"method":"subscription.stop"}`)
	if got := w.read(); got != `{"id":1,"result":{"type":"stopped"}}` {
		t.Fatalf("stop: got %s", got)
	}
	w.send(`{"id":4,"method":"subscription","params":{"path":"wait"}}`)
	if got := w.read(); got != `{"id":4,"result":{"type":"started"}}` {
		t.Errorf("subscription after a stop: got %s", got)
	}
	if n := b.refusals(LimitSubscriptions); n != 1 {
		t.Errorf("refusals counted: %d; want 1", n)
	}
}

// TestWebSocketCallsInFlightCap sends more slow queries at once than a socket may run:
// the extra one is refused with an error naming the limit; the others complete.
func TestWebSocketCallsInFlightCap(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := newLimitsBundle(t, Config{MaxCallsInFlight: 2}, nil, release)
	w, _, err := b.dial(t, "10.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	w.send(`[{"id":1,"method":"query","params":{"path":"block"}},{"id":2,"method":"query","params":{"path":"block"}},{"id":3,"method":"query","params":{"path":"block"}}]`)
	got := w.read()
	if !strings.HasPrefix(got, `{"id":3,"error":`) || !strings.Contains(got, `"TOO_MANY_REQUESTS"`) || !strings.Contains(got, string(LimitCallsInFlight)) {
		t.Fatalf("third call: got %s; want TOO_MANY_REQUESTS naming %s", got, LimitCallsInFlight)
	}
	w.alive()
	close(release)
	answers := map[string]bool{w.read(): true, w.read(): true}
	for _, want := range []string{`{"id":1,"result":{"type":"data","data":"done"}}`, `{"id":2,"result":{"type":"data","data":"done"}}`} {
		if !answers[want] {
			t.Errorf("missing %s in %v", want, answers)
		}
	}
}

// TestConnsPerIP opens one connection more than one address may hold, mixing WebSocket
// and SSE: the extra WebSocket gets a 429 before the upgrade and the extra SSE stream an
// error event, each naming the limit; other addresses are served.
func TestConnsPerIP(t *testing.T) {
	t.Parallel()
	started := make(chan string, 4)
	b := newLimitsBundle(t, Config{MaxConnsPerIP: 2}, started, nil)
	if _, _, err := b.dial(t, "10.0.0.1", ""); err != nil {
		t.Fatal(err)
	}
	b.sse(t, "10.0.0.1", "")
	<-started // the stream holds its slot

	_, resp, err := b.dial(t, "10.0.0.1", "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one address: %v %v; want HTTP 429", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"TOO_MANY_REQUESTS"`) || !strings.Contains(string(body), string(LimitConnsPerIP)) {
		t.Errorf("refusal body %s; want TOO_MANY_REQUESTS naming %s", body, LimitConnsPerIP)
	}
	s := b.sse(t, "10.0.0.1", "")
	if ev := s.next(); !strings.HasPrefix(ev, "event: serialized-error\n") || !strings.Contains(ev, string(LimitConnsPerIP)) {
		t.Errorf("third SSE stream from one address: %q; want an error naming %s", ev, LimitConnsPerIP)
	}
	w, _, err := b.dial(t, "10.0.0.2", "")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	w.alive()
	if n := b.refusals(LimitConnsPerIP); n != 2 {
		t.Errorf("refusals counted: %d; want 2", n)
	}
}

// TestConnsPerUser opens one connection more than one user may hold, from different
// addresses: the extra WebSocket is told why and closed, the extra SSE stream gets an
// error event; another user is served.
func TestConnsPerUser(t *testing.T) {
	t.Parallel()
	started := make(chan string, 4)
	b := newLimitsBundle(t, Config{MaxConnsPerUser: 2}, started, nil)
	w1, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w1.alive() // connectionParams handled: the slot is taken
	b.sse(t, "10.0.0.2", "alice")
	<-started

	w, _, err := b.dial(t, "10.0.0.3", "alice")
	if err != nil {
		t.Fatal(err)
	}
	got := w.read()
	if !strings.HasPrefix(got, `{"id":null,"error":`) || !strings.Contains(got, `"TOO_MANY_REQUESTS"`) || !strings.Contains(got, string(LimitConnsPerUser)) {
		t.Errorf("third socket of one user: got %s; want TOO_MANY_REQUESTS naming %s", got, LimitConnsPerUser)
	}
	if st := w.closed(); st != websocket.StatusPolicyViolation {
		t.Errorf("third socket of one user: close %d; want 1008", st)
	}
	s := b.sse(t, "10.0.0.4", "alice")
	if ev := s.next(); !strings.HasPrefix(ev, "event: serialized-error\n") || !strings.Contains(ev, string(LimitConnsPerUser)) {
		t.Errorf("third SSE stream of one user: %q; want an error naming %s", ev, LimitConnsPerUser)
	}
	bob, _, err := b.dial(t, "10.0.0.5", "bob")
	if err != nil {
		t.Fatal(err)
	}
	bob.send(`{"id":1,"method":"query","params":{"path":"me"}}`)
	if got := bob.read(); got != `{"id":1,"result":{"type":"data","data":"bob"}}` {
		t.Errorf("another user: got %s", got)
	}
	w1.alive()
	if n := b.refusals(LimitConnsPerUser); n != 2 {
		t.Errorf("refusals counted: %d; want 2", n)
	}
}

// TestWebSocketTokenExpiry lets a socket's token expire (on cue, through the router's
// expiry hook): its subscription ends without "stopped" (so wsLink resubscribes), the
// client is asked to reconnect, a new call is refused with UNAUTHORIZED, and the socket
// is closed after the grace.
func TestWebSocketTokenExpiry(t *testing.T) {
	t.Parallel()
	started := make(chan string, 1)
	b := newLimitsBundle(t, Config{AuthTimeout: 50 * time.Millisecond}, started, nil)
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
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":1,"method":"subscription","params":{"path":"wait"}}`)
	if got := w.read(); got != `{"id":1,"result":{"type":"started"}}` {
		t.Fatalf("subscribe: got %s", got)
	}
	<-started
	w.send(`{"id":2,"method":"query","params":{"path":"me"}}`)
	if got := w.read(); got != `{"id":2,"result":{"type":"data","data":"alice"}}` {
		t.Fatalf("query before expiry: got %s", got)
	}

	(<-expire)() // the token's exp passes
	if got := w.read(); got != `{"id":null,"method":"reconnect"}` {
		t.Fatalf("at expiry: got %s; want the reconnect notice", got)
	}
	w.send(`{"id":3,"method":"query","params":{"path":"me"}}`)
	got := w.read()
	if !strings.HasPrefix(got, `{"id":3,"error":`) || !strings.Contains(got, `"UNAUTHORIZED"`) {
		t.Fatalf("query after expiry: got %s; want UNAUTHORIZED", got)
	}
	for {
		_, msg, err := w.c.Read(w.ctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st != websocket.StatusPolicyViolation {
				t.Errorf("after the grace: %v; want a close 1008", err)
			}
			break
		}
		if strings.Contains(string(msg), `"stopped"`) {
			t.Errorf("expiry sent %s: wsLink would not resubscribe", msg)
		}
	}
	// The server carries on.
	w2, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w2.alive()
}

// TestSSEReconnectAfterInactivity checks the connected event tells the client when to
// give up on a silent stream.
func TestSSEReconnectAfterInactivity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{SSEPingInterval: 2 * time.Second}, `data: {"reconnectAfterInactivityMs":6000}`},
		{Config{SSEReconnectAfterInactivity: 1500 * time.Millisecond}, `data: {"reconnectAfterInactivityMs":1500}`},
		{Config{SSEReconnectAfterInactivity: -1}, `data: {}`},
	} {
		b := setup(t, tc.cfg)
		res := b.do(t, "GET", "/trpc/item.watch?input="+url.QueryEscape(`{"id":1}`), "", "")
		if !strings.HasPrefix(res.body, "event: connected\n"+tc.want+"\n\n") {
			t.Errorf("%+v: got %q", tc.cfg, res.body)
		}
	}
}

// TestWebSocketOversizeMessage sends messages over the size limit: each readable id gets
// PAYLOAD_TOO_LARGE naming the limit and the socket stays; only a message far over it
// closes the socket with 1009.
func TestWebSocketOversizeMessage(t *testing.T) {
	t.Parallel()
	b := newLimitsBundle(t, Config{MaxBodyBytes: 1024}, nil, nil)
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("A", 2000)
	w.send(`{"id":7,"method":"query","params":{"path":"me","input":"` + pad + `"}}`)
	got := w.read()
	if !strings.HasPrefix(got, `{"id":7,"error":`) || !strings.Contains(got, `"PAYLOAD_TOO_LARGE"`) || !strings.Contains(got, string(LimitMessageBytes)) {
		t.Errorf("oversize call: got %s; want PAYLOAD_TOO_LARGE for id 7 naming %s", got, LimitMessageBytes)
	}
	w.send(`[{"id":"a","method":"query","params":{"path":"me","input":{"id":99}}},{"method":"query","id":2,"params":{"path":"me","input":"` + pad + `"}}]`)
	answers := map[string]bool{}
	for range 2 {
		got := w.read()
		if !strings.Contains(got, `"PAYLOAD_TOO_LARGE"`) {
			t.Errorf("oversize batch: got %s", got)
		}
		answers[got[:strings.Index(got, ",")]] = true
	}
	if !answers[`{"id":"a"`] || !answers[`{"id":2`] {
		t.Errorf("oversize batch: answered %v; want ids \"a\" and 2", answers)
	}
	w.send(`"` + pad + `"`)
	if got := w.read(); !strings.HasPrefix(got, `{"id":null,"error":`) || !strings.Contains(got, `"PAYLOAD_TOO_LARGE"`) {
		t.Errorf("oversize message without an id: got %s", got)
	}
	w.send(`{"id":8,"method":"query","params":{"path":"me"}}`)
	if got := w.read(); got != `{"id":8,"result":{"type":"data","data":"alice"}}` {
		t.Errorf("call after the oversize messages: got %s", got)
	}
	if n := b.refusals(LimitMessageBytes); n != 3 {
		t.Errorf("refusals counted: %d; want 3", n)
	}
	w.send(strings.Repeat("A", 1024*wsOversizeFactor+1))
	if st := w.closed(); st != websocket.StatusMessageTooBig {
		t.Errorf("message past %d× the limit: close %d; want 1009", wsOversizeFactor, st)
	}
}
