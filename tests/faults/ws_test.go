//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// watcher is a small wsLink client subscribed to project.onUpdate, the way the browser
// app is: connectionParams first, then the subscription with the last event id it saw.
// When the server says {"id":null,"method":"reconnect"} or the socket drops, it moves to
// the next instance of its list and resubscribes with that id.
type watcher struct {
	t         *testing.T
	name      string
	urls      []string // ws:// URLs of the instances, tried in turn
	tok       string
	projectID string

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every event
	events     []snapshot    // every state received, in order
	lastID     string        // the last event id (a version)
	reconnects int           // new connections after the first
	asked      int           // {"id":null,"method":"reconnect"} notifications received
	fatal      error         // an error frame that reconnecting cannot fix
}

// watch starts a watcher on the project, connected first to bases[0]; it runs until
// the test ends.
func watch(t *testing.T, name, tok, projectID string, bases ...string) *watcher {
	t.Helper()
	w := &watcher{t: t, name: name, tok: tok, projectID: projectID, changed: make(chan struct{})}
	for _, b := range bases {
		w.urls = append(w.urls, "ws"+strings.TrimPrefix(b, "http")+"/ws?connectionParams=1")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// run keeps one subscription alive until ctx ends.
func (w *watcher) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		if i > 0 {
			w.mu.Lock()
			w.reconnects++
			w.mu.Unlock()
		}
		err := w.session(ctx, w.urls[i%len(w.urls)])
		var fe fatalError
		if errors.As(err, &fe) {
			w.mu.Lock()
			w.fatal = err
			w.notify()
			w.mu.Unlock()
			return
		}
		if err != nil && i%len(w.urls) == len(w.urls)-1 {
			// Every instance refused in a row: wait a moment before the next round, as
			// wsLink's backoff does (this paces retries; it synchronises nothing).
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// fatalError is an error frame reconnecting cannot fix (unauthorized, not found).
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

// session connects to url, subscribes and reads until the socket ends or the server
// asks for a reconnect.
func (w *watcher) session(ctx context.Context, url string) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	c, _, err := websocket.Dial(dctx, url, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer c.CloseNow()
	c.SetReadLimit(16 << 20)
	params, _ := json.Marshal(map[string]any{"method": "connectionParams", "data": map[string]string{"token": w.tok}})
	if err := c.Write(ctx, websocket.MessageText, params); err != nil {
		return err
	}
	sub := map[string]any{"input": map[string]any{"id": w.projectID}, "path": "project.onUpdate"}
	w.mu.Lock()
	if w.lastID != "" {
		sub["lastEventId"] = w.lastID
	}
	w.mu.Unlock()
	frame, _ := json.Marshal(map[string]any{"id": 1, "method": "subscription", "params": sub})
	if err := c.Write(ctx, websocket.MessageText, frame); err != nil {
		return err
	}
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if typ != websocket.MessageText {
			continue
		}
		if string(data) == "PING" {
			if err := c.Write(ctx, websocket.MessageText, []byte("PONG")); err != nil {
				return err
			}
			continue
		}
		if string(data) == "PONG" {
			continue
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result *struct {
				Type string          `json:"type"`
				ID   json.RawMessage `json:"id"`
				Data json.RawMessage `json:"data"`
			} `json:"result"`
			Error *trpcError `json:"error"`
		}
		if err := json.Unmarshal(data, &msg); err != nil {
			return fmt.Errorf("bad frame %.200s: %w", data, err)
		}
		switch {
		case msg.Method == "reconnect":
			w.mu.Lock()
			w.asked++
			w.mu.Unlock()
			// Make-before-break is the browser's refinement; moving on with the last
			// event id is what guarantees no gap, and that is what is tested.
			c.Close(websocket.StatusNormalClosure, "reconnect")
			return nil
		case msg.Error != nil:
			switch msg.Error.Data.Code {
			case "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST":
				return fatalError{fmt.Sprintf("%s: %s", w.name, msg.Error)}
			}
			return msg.Error
		case msg.Result != nil && msg.Result.Type == "data":
			var tracked struct {
				ID   string   `json:"id"`
				Data snapshot `json:"data"`
			}
			if err := json.Unmarshal(msg.Result.Data, &tracked); err != nil {
				return fmt.Errorf("bad event %.200s: %w", data, err)
			}
			w.mu.Lock()
			w.events = append(w.events, tracked.Data)
			w.lastID = tracked.ID
			w.notify()
			w.mu.Unlock()
		case msg.Result != nil && msg.Result.Type == "stopped":
			return errors.New("subscription stopped")
		}
	}
}

// notify wakes waiters; w.mu must be held.
func (w *watcher) notify() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// last returns the last state received (zero before the first).
func (w *watcher) last() snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.events) == 0 {
		return snapshot{}
	}
	return w.events[len(w.events)-1]
}

// waitState waits until the last state received satisfies cond, and returns that state;
// when ctx ends first it fails the test (without stopping it) and returns the last state.
func (w *watcher) waitState(ctx context.Context, what string, cond func(s snapshot) bool) snapshot {
	w.t.Helper()
	for {
		w.mu.Lock()
		ch, fatal := w.changed, w.fatal
		var last *snapshot
		if n := len(w.events); n > 0 {
			last = &w.events[n-1]
		}
		if last != nil && cond(*last) {
			s := *last
			w.mu.Unlock()
			return s
		}
		w.mu.Unlock()
		if fatal != nil {
			w.t.Fatalf("watcher %s: %v", w.name, fatal)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			w.t.Errorf("watcher %s waiting for %s: %v (last state %s)", w.name, what, ctx.Err(), w.describeLast())
			return w.last()
		}
	}
}

// waitVersion waits, at most 30 s, until the watcher has seen version (or newer) in the
// given status.
func (w *watcher) waitVersion(ctx context.Context, version int64, status string) snapshot {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return w.waitState(ctx, fmt.Sprintf("version %d %s", version, status), func(s snapshot) bool {
		return s.Version >= version && s.Status == status
	})
}

func (w *watcher) describeLast() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.events) == 0 {
		return "none"
	}
	s := w.events[len(w.events)-1]
	return fmt.Sprintf("v%d %s %d%% after %d events, %d reconnects", s.Version, s.Status, s.Progress, len(w.events), w.reconnects)
}

// checkOrder fails the test if a state older than one already seen arrived after it,
// and returns how many events and reconnects there were, and how many reconnects the
// server asked for.
func (w *watcher) checkOrder() (events, reconnects, asked int) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var seen []string
	for i, s := range w.events {
		seen = append(seen, strconv.FormatInt(s.Version, 10))
		if i > 0 && s.Version < w.events[i-1].Version {
			w.t.Errorf("watcher %s received version %d after version %d (versions: %s)",
				w.name, s.Version, w.events[i-1].Version, strings.Join(seen, " "))
		}
	}
	return len(w.events), w.reconnects, w.asked
}
