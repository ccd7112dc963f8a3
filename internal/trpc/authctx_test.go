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

type authUserKey struct{}

// A WebSocket authenticates once, during its first call; stopping that call
// (the browser leaving a page) must not end the connection's later calls.
func TestWebSocketAuthOutlivesFirstCall(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
		if req.ConnectionParams["token"] != "alice-token" {
			return nil, Errorf(CodeUnauthorized, "bad token")
		}
		return context.WithValue(ctx, authUserKey{}, "alice"), nil
	}})
	Subscription(r, "wait", func(ctx context.Context, _ Void, _ string, _ func(Event[string]) error) error {
		<-ctx.Done()
		return nil
	})
	Query(r, "whoami", func(ctx context.Context, _ Void) (string, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		u, _ := ctx.Value(authUserKey{}).(string)
		return u, nil
	})
	srv := httptest.NewServer(r.WebSocketHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?connectionParams=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	write := func(s string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	readUntil := func(want string) {
		t.Helper()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			if strings.Contains(string(b), want) {
				return
			}
			if strings.Contains(string(b), `"error"`) {
				t.Fatalf("waiting for %s, got %s", want, b)
			}
		}
	}
	write(`{"method":"connectionParams","data":{"token":"alice-token"}}`)
	write(`{"id":1,"method":"subscription","params":{"path":"wait"}}`)
	readUntil(`{"id":1,"result":{"type":"started"}}`)
	write(`{"id":1,"method":"subscription.stop"}`)
	readUntil(`{"id":1,"result":{"type":"stopped"}}`)
	write(`{"id":2,"method":"query","params":{"path":"whoami"}}`)
	readUntil(`{"id":2,"result":{"type":"data","data":"alice"}}`)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}
