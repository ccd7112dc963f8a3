package trpc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// syncBuffer is a log sink safe to read while handlers write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// explosive panics when it is encoded, as a buggy MarshalJSON would.
type explosive struct{}

func (explosive) MarshalJSON() ([]byte, error) { panic("MarshalJSON exploded") }

// panicRouter has procedures that panic in every place caller work runs: the body, the
// encoding of a result, a subscription's send from its own goroutine, and AuthFunc (for
// the token "panic").
func panicRouter(t *testing.T) (*Router, *syncBuffer, *httptest.Server) {
	t.Helper()
	logs := &syncBuffer{}
	r := NewRouter(Config{
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
			if req.ConnectionParams["token"] == "panic" || req.Header.Get("X-Panic") != "" {
				panic("AuthFunc exploded")
			}
			return ctx, nil
		},
	})
	Query(r, "body", func(ctx context.Context, in Void) (string, error) { panic("body exploded") })
	Query(r, "encode", func(ctx context.Context, in Void) (explosive, error) { return explosive{}, nil })
	Query(r, "ok", func(ctx context.Context, in Void) (string, error) { return "ok", nil })
	Subscription(r, "sendFromGoroutine", func(ctx context.Context, in Void, last string, send func(Event[explosive]) error) error {
		errc := make(chan error, 1)
		go func() { errc <- send(Event[explosive]{ID: "1"}) }()
		return <-errc
	})
	mux := http.NewServeMux()
	mux.Handle("/ws", r.WebSocketHandler())
	mux.Handle("/trpc/", http.StripPrefix("/trpc", r.HTTPHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return r, logs, srv
}

// TestWebSocketPanicsAnswered sends calls that panic over a WebSocket: each is answered
// INTERNAL_SERVER_ERROR on its id, the panic is logged, and the socket and the process
// carry on.
func TestWebSocketPanicsAnswered(t *testing.T) {
	t.Parallel()
	_, logs, srv := panicRouter(t)
	w := mustOpenSocket(t, wsURL(srv.URL)+"/ws")
	send, read := w.send, w.read
	send(`{"id":1,"method":"query","params":{"path":"body"}}`)
	send(`{"id":2,"method":"query","params":{"path":"encode"}}`)
	send(`{"id":3,"method":"subscription","params":{"path":"sendFromGoroutine"}}`)
	got := map[string]bool{}
	for len(got) < 3 {
		msg := read()
		if strings.Contains(msg, `"started"`) || strings.Contains(msg, `"stopped"`) {
			continue
		}
		if !strings.Contains(msg, `"code":"INTERNAL_SERVER_ERROR"`) {
			t.Errorf("got %s; want INTERNAL_SERVER_ERROR", msg)
		}
		got[msg[:8]] = true
	}
	for _, id := range []string{`{"id":1,`, `{"id":2,`, `{"id":3,`} {
		if !got[id] {
			t.Errorf("no error for %s in %v", id, got)
		}
	}
	send(`{"id":4,"method":"query","params":{"path":"ok"}}`)
	if msg := w.readUntil(func(f string) bool { return strings.HasPrefix(f, `{"id":4,`) }); msg != `{"id":4,"result":{"type":"data","data":"ok"}}` {
		t.Errorf("query after the panics: got %s", msg)
	}

	// A panic in AuthFunc refuses the connection, not the process.
	w2 := mustOpenSocket(t, wsURL(srv.URL)+"/ws?connectionParams=1")
	_ = w2.c.Write(w2.ctx, websocket.MessageText, []byte(`{"method":"connectionParams","data":{"token":"panic"}}`))
	_ = w2.c.Write(w2.ctx, websocket.MessageText, []byte(`{"id":1,"method":"query","params":{"path":"ok"}}`))
	if _, msg, err := w2.c.Read(w2.ctx); err != nil || !strings.Contains(string(msg), "INTERNAL_SERVER_ERROR") {
		t.Errorf("AuthFunc panic: got %s, %v; want INTERNAL_SERVER_ERROR", msg, err)
	}
	send("PING")
	w.readUntil(func(f string) bool { return f == "PONG" })
	if !strings.Contains(logs.String(), "exploded") {
		t.Errorf("the panics were not logged: %s", logs)
	}
}

// TestSSEPanicsAnswered opens SSE streams whose work panics: each ends with an
// INTERNAL_SERVER_ERROR event, and the server carries on.
func TestSSEPanicsAnswered(t *testing.T) {
	t.Parallel()
	_, logs, srv := panicRouter(t)
	get := func(header string) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/trpc/sendFromGoroutine", nil)
		if header != "" {
			req.Header.Set(header, "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("read: %v", err)
		}
		return b.String()
	}
	for _, header := range []string{"", "X-Panic"} {
		body := get(header)
		if !strings.Contains(body, "event: serialized-error\n") || !strings.Contains(body, "INTERNAL_SERVER_ERROR") {
			t.Errorf("panic (header %q): got %q; want an INTERNAL_SERVER_ERROR event", header, body)
		}
	}
	resp, err := http.Get(srv.URL + "/trpc/ok")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("query after the panics: %v %v", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "exploded") {
		t.Errorf("the panics were not logged: %s", logs)
	}
}
