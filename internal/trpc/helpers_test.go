package trpc

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// This file holds the clients the tests speak to a served router with: a
// WebSocket (wsClient) and an SSE stream (sseClient).

// wsURL is the WebSocket address of an http:// server address.
func wsURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http")
}

// wsClient is one test WebSocket. Its operations fail the test when the socket
// does not do what they expect.
type wsClient struct {
	t   *testing.T
	c   *websocket.Conn
	ctx context.Context
}

// openSocket dials url (ws://…) with header; the socket is closed when the test
// ends. A refused upgrade is returned, with its response, for the test to check.
func openSocket(t *testing.T, url string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsClient{t: t, c: c, ctx: ctx}, resp, nil
}

// mustOpenSocket dials url (ws://…), failing the test if it cannot.
func mustOpenSocket(t *testing.T, url string) *wsClient {
	t.Helper()
	w, _, err := openSocket(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// send writes one text frame.
func (w *wsClient) send(s string) {
	w.t.Helper()
	if err := w.c.Write(w.ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next frame.
func (w *wsClient) read() string {
	w.t.Helper()
	_, b, err := w.c.Read(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// readUntil reads frames until one matches, and returns it.
func (w *wsClient) readUntil(match func(frame string) bool) string {
	w.t.Helper()
	for {
		_, b, err := w.c.Read(w.ctx)
		if err != nil {
			w.t.Fatalf("socket ended before the frame waited for: %v", err)
		}
		if match(string(b)) {
			return string(b)
		}
	}
}

// closed reads until the server closes the socket and returns its close status.
func (w *wsClient) closed() websocket.StatusCode {
	w.t.Helper()
	for {
		if _, _, err := w.c.Read(w.ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// alive checks the socket still answers.
func (w *wsClient) alive() {
	w.t.Helper()
	w.send("PING")
	if got := w.read(); got != "PONG" {
		w.t.Fatalf("PING: got %s", got)
	}
}

// sseClient is one test SSE stream.
type sseClient struct {
	t    *testing.T
	body io.ReadCloser
	rd   *bufio.Reader
}

// openSSE sends req, a request for an event stream; the stream is closed when the
// test ends.
func openSSE(t *testing.T, req *http.Request) *sseClient {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseClient{t: t, body: resp.Body, rd: bufio.NewReader(resp.Body)}
}

// next returns the next event's text.
func (s *sseClient) next() string {
	s.t.Helper()
	var ev strings.Builder
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			s.t.Fatalf("SSE stream ended (%v) after %q", err, ev.String())
		}
		if line == "\n" {
			return ev.String()
		}
		ev.WriteString(line)
	}
}

// nextData returns the data of the next value: the next event without an event
// type, skipping connected, ping and the rest.
func (s *sseClient) nextData() string {
	s.t.Helper()
	for {
		ev := s.next()
		if strings.HasPrefix(ev, "event:") || strings.Contains(ev, "\nevent:") {
			continue
		}
		for _, line := range strings.Split(ev, "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				return data
			}
		}
	}
}
