package trpc

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
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
	w := mustOpenSocket(t, wsURL(srv.URL)+"/ws?connectionParams=1")
	write := w.send
	readUntil := func(want string) {
		t.Helper()
		w.readUntil(func(frame string) bool {
			if strings.Contains(frame, want) {
				return true
			}
			if strings.Contains(frame, `"error"`) {
				t.Fatalf("waiting for %s, got %s", want, frame)
			}
			return false
		})
	}
	write(`{"method":"connectionParams","data":{"token":"alice-token"}}`)
	write(`{"id":1,"method":"subscription","params":{"path":"wait"}}`)
	readUntil(`{"id":1,"result":{"type":"started"}}`)
	write(`{"id":1,"method":"subscription.stop"}`)
	readUntil(`{"id":1,"result":{"type":"stopped"}}`)
	write(`{"id":2,"method":"query","params":{"path":"whoami"}}`)
	readUntil(`{"id":2,"result":{"type":"data","data":"alice"}}`)
	if errors.Is(w.ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}
