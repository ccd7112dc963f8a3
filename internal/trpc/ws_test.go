package trpc

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialWS starts the router's WebSocket handler and connects to it.
func dialWS(t *testing.T, r *Router, query string) (*websocket.Conn, func(string), func() string) {
	t.Helper()
	srv := httptest.NewServer(r.WebSocketHandler())
	t.Cleanup(srv.Close)
	w := mustOpenSocket(t, wsURL(srv.URL)+"/ws"+query)
	return w.c, w.send, w.read
}

func TestWebSocketCalls(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	_, send, read := dialWS(t, b.router, "")
	send("PING")
	if got := read(); got != "PONG" {
		t.Fatalf("PING: got %s", got)
	}
	send(`{"id":1,"jsonrpc":"2.0","method":"query","params":{"path":"item.get","input":{"id":2}}}`)
	want := `{"id":1,"jsonrpc":"2.0","error":{"message":"Item 2 not found","code":-32004,"data":{"code":"NOT_FOUND","httpStatus":404,"path":"item.get","zodError":null}}}`
	if got := read(); got != want {
		t.Errorf("query error: got %s", got)
	}
	send(`{"id":"a","method":"mutation","params":{"path":"item.touch"}}`)
	if got := read(); got != `{"id":"a","result":{"type":"data"}}` {
		t.Errorf("void mutation: got %s", got)
	}
	send(`{"id":null,"method":"query","params":{"path":"item.get"}}`)
	if got := read(); !strings.HasPrefix(got, `{"id":null,"error":{"message":"`+"`id`"+` is required","code":-32700`) {
		t.Errorf("id null: got %s", got)
	}
	send(`{"id":2,"method":"query","params":{"path":"item.add"}}`)
	if got := read(); !strings.Contains(got, `"NOT_FOUND"`) {
		t.Errorf("mutation sent as query: got %s", got)
	}
	send(`not json`)
	if got := read(); !strings.Contains(got, `"id":null`) || !strings.Contains(got, "PARSE_ERROR") {
		t.Errorf("malformed frame: got %s", got)
	}
}

func TestWebSocketSubscriptions(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	release := make(chan struct{})
	Subscription(r, "wait", func(ctx context.Context, in Void, last string, send func(Event[string]) error) error {
		if err := send(Event[string]{ID: "1", Data: "first"}); err != nil {
			return err
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	_, send, read := dialWS(t, r, "")
	send(`[{"id":1,"method":"subscription","params":{"path":"wait"}},{"id":1,"method":"subscription","params":{"path":"wait"}}]`)
	got := map[string]bool{read(): true, read(): true, read(): true}
	for _, w := range []string{
		`{"id":1,"result":{"type":"started"}}`,
		`{"id":1,"error":{"message":"Duplicate id 1","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"wait","zodError":null}}}`,
		`{"id":1,"result":{"type":"data","id":"1","data":{"id":"1","data":"first"}}}`,
	} {
		if !got[w] {
			t.Errorf("missing frame %s in %v", w, got)
		}
	}
	// A stop is answered in order, before the PONG of a later PING.
	send(`{"id":1,"method":"subscription.stop"}`)
	send("PING")
	if got := read(); got != `{"id":1,"result":{"type":"stopped"}}` {
		t.Errorf("stop: got %s", got)
	}
	if got := read(); got != "PONG" {
		t.Errorf("PING after stop: got %s", got)
	}
	// The id is free again; completion sends stopped.
	send(`{"id":1,"method":"subscription","params":{"path":"wait"}}`)
	read()
	read()
	close(release)
	if got := read(); got != `{"id":1,"result":{"type":"stopped"}}` {
		t.Errorf("completion: got %s", got)
	}
}

func TestWebSocketConnectionParams(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
		if req.ConnectionParams["token"] != "t" {
			return nil, errors.New("no token")
		}
		return ctx, nil
	}})
	Query(r, "me", func(ctx context.Context, in Void) (string, error) { return "me", nil })
	_, send, read := dialWS(t, r, "?connectionParams=1")
	send(`{"method":"connectionParams","data":{"token":"t"}}`)
	send(`{"id":1,"method":"query","params":{"path":"me"}}`)
	if got := read(); got != `{"id":1,"result":{"type":"data","data":"me"}}` {
		t.Errorf("authed query: got %s", got)
	}

	c, send, read := dialWS(t, r, "?connectionParams=1")
	send(`{"method":"connectionParams","data":{"token":7}}`)
	if got := read(); !strings.HasPrefix(got, `{"id":null,"error":`) || !strings.Contains(got, "PARSE_ERROR") {
		t.Errorf("bad connectionParams: got %s", got)
	}
	if _, _, err := c.Read(context.Background()); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("connection should close after a bad connectionParams, got %v", err)
	}
}

func TestShutdownSendsReconnect(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c, send, read := dialWS(t, b.router, "")
	send("PING")
	read()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.router.Shutdown(ctx) }()
	if got := read(); got != `{"id":null,"method":"reconnect"}` {
		t.Fatalf("got %s", got)
	}
	// The old socket keeps serving until the client closes it.
	send("PING")
	if got := read(); got != "PONG" {
		t.Errorf("PING during drain: got %s", got)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestWebSocketStopCancelsAuthenticatedSubscription(t *testing.T) {
	t.Parallel()
	type userKey struct{}
	r := NewRouter(Config{AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
		return context.WithValue(ctx, userKey{}, "u1"), nil
	}})
	ended := make(chan struct{})
	Subscription(r, "wait", func(ctx context.Context, in Void, last string, send func(Event[string]) error) error {
		<-ctx.Done()
		close(ended)
		return ctx.Err()
	})
	Query(r, "me", func(ctx context.Context, in Void) (string, error) {
		u, _ := ctx.Value(userKey{}).(string)
		return u, ctx.Err()
	})
	_, send, read := dialWS(t, r, "")
	send(`{"id":1,"method":"subscription","params":{"path":"wait"}}`)
	if got := read(); got != `{"id":1,"result":{"type":"started"}}` {
		t.Fatalf("got %s", got)
	}
	send(`{"id":1,"method":"subscription.stop"}`)
	read()
	<-ended // the stop reached the subscription's context
	send(`{"id":2,"method":"query","params":{"path":"me"}}`)
	if got := read(); got != `{"id":2,"result":{"type":"data","data":"u1"}}` {
		t.Errorf("query after the stop: got %s", got)
	}
}
