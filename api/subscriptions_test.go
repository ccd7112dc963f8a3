package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/storage"
	"github.com/packshot/packshot/internal/telemetry"
)

// rtInstances is several packshot instances on one database, each with its own realtime
// broker, pack service and queue, as in a deployment behind a load balancer.
type rtInstances struct {
	db        *pgtest.DB
	instances []*testBundle
}

// setupRealtime starts n instances on one fresh database; only the first runs a
// dispatcher when worker is set.
func setupRealtime(t *testing.T, n int, workerOn int) *rtInstances {
	t.Helper()
	d := pgtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	blobs, signer, verifier := testParts(t)
	c := &rtInstances{db: d}
	for i := range n {
		links := api.NewPackLinks(signer, time.Hour)
		var broker *realtime.Broker
		nt := notifiertest.New(t, d.Pool, notifier.Config{Logger: logger})
		tp := newTestPack(t, testPackOptions{
			store: d.Store, blobs: pack.StorageBlobs(blobs, signer, time.Hour), logger: logger, packURL: links.URL,
			announcer: announcerFuncs{
				changed: func(ch pack.Change) {
					broker.Publish(realtime.Change{ProjectID: ch.ProjectID, UserID: ch.UserID, Version: ch.Version})
				},
				progress: func(p pack.JobProgress) {
					broker.PublishProgress(realtime.Progress{ProjectID: p.ProjectID, UserID: p.UserID,
						JobID: p.JobID, Progress: p.Percent, Stage: p.Stage})
				},
			},
			queue: queue.Config{Notifier: nt, MaxWorkers: 4, PollInterval: 200 * time.Millisecond, RetryBase: 5 * time.Millisecond, RetryCap: 20 * time.Millisecond},
		})
		svc, qc := tp.svc, tp.queue
		pub := realtime.NewPublisher(nt, realtime.PublisherConfig{})
		broker = realtime.New(realtime.Config{Notifier: nt, Publisher: pub, Hub: api.RealtimeHubConfig(svc)})
		for _, c := range []interface {
			Start(context.Context) error
			Stop(context.Context) error
		}{pub, broker} {
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Stop(context.Background()) })
		}
		// Listening after the broker, this handler is told of the connection after it.
		up := make(chan struct{}, 1)
		nt.Listen(realtime.Channel, notifier.Handler{Notify: func(string) {}, Connected: func() {
			select {
			case up <- struct{}{}:
			default:
			}
		}})

		if i == workerOn {
			if err := qc.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		h := api.NewServer(api.Deps{
			Logger: logger, Store: d.Store, ReadyFunc: func(context.Context) error { return broker.Healthy() },
			Metrics: telemetry.New(), Pack: svc, Verifier: verifier, PackLinks: links,
			Files: storage.NewFileServer(blobs, signer), Realtime: broker,
			Transformer: "json", // the helpers speak plain JSON
			Tickets:     auth.NewTickets(d.Store, 0, 0),
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		<-up // the listener is up: changes from now on are heard
		c.instances = append(c.instances, &testBundle{url: srv.URL, db: d, svc: svc, queue: qc, client: srv.Client()})
	}
	return c
}

// rtWSClient is a wsLink client speaking the protocol frame by frame.
type rtWSClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

// rtWSFrame is one server message.
type rtWSFrame struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result *struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	} `json:"result"`
	Error *struct {
		Data struct {
			Code string `json:"code"`
		} `json:"data"`
	} `json:"error"`
}

func rtDialWS(t *testing.T, b *testBundle, tok string, opts *websocket.DialOptions) *rtWSClient {
	t.Helper()
	// A bound, not a measurement: a whole pack under the race detector is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	u := "ws" + strings.TrimPrefix(b.url, "http") + "/ws?connectionParams=1"
	conn, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &rtWSClient{t: t, conn: conn, ctx: ctx}
	c.send(map[string]any{"method": "connectionParams", "data": map[string]string{"token": tok}})
	return c
}

func (c *rtWSClient) send(v any) {
	c.t.Helper()
	raw, _ := json.Marshal(v)
	if err := c.conn.Write(c.ctx, websocket.MessageText, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// subscribe starts project.onUpdate for id as call 1, resuming after lastEventID if set.
func (c *rtWSClient) subscribe(id, lastEventID string) {
	params := map[string]any{"path": "project.onUpdate", "input": map[string]string{"id": id}}
	if lastEventID != "" {
		params["lastEventId"] = lastEventID
	}
	c.send(map[string]any{"id": 1, "method": "subscription", "params": params})
}

func (c *rtWSClient) read() rtWSFrame {
	c.t.Helper()
	_, raw, err := c.conn.Read(c.ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var f rtWSFrame
	if err := json.Unmarshal(raw, &f); err != nil {
		c.t.Fatalf("frame %s: %v", raw, err)
	}
	return f
}

// next returns the next snapshot event, with its event id.
func (c *rtWSClient) next() (string, pack.Snapshot) {
	c.t.Helper()
	for {
		f := c.read()
		if f.Error != nil {
			c.t.Fatalf("subscription failed: %s", f.Error.Data.Code)
		}
		if f.Result == nil || f.Result.Type != "data" {
			continue
		}
		var tracked struct { // wsLink wraps a tracked event's data with its id
			ID   string        `json:"id"`
			Data pack.Snapshot `json:"data"`
		}
		if err := json.Unmarshal(f.Result.Data, &tracked); err != nil {
			c.t.Fatalf("event %s: %v", f.Result.Data, err)
		}
		if tracked.ID != f.Result.ID {
			c.t.Fatalf("event id %q, data id %q", f.Result.ID, tracked.ID)
		}
		return f.Result.ID, tracked.Data
	}
}

// until returns the first snapshot event at version v or later.
func (c *rtWSClient) until(v int64) pack.Snapshot {
	c.t.Helper()
	for {
		if _, s := c.next(); s.Version >= v {
			return s
		}
	}
}

// rename changes a project through project.update and returns its new version.
func rtRename(t *testing.T, b *testBundle, tok, id, name string) int64 {
	t.Helper()
	var s pack.Snapshot
	b.mutate(t, tok, "project.update", map[string]any{"id": id, "name": name}).decode(t, &s)
	return s.Version
}

func TestOnUpdateSendsStartedSnapshotThenEachChange(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle"})

	c := rtDialWS(t, b, tok, nil)
	c.subscribe(p.ID.String(), "")
	if f := c.read(); f.Result == nil || f.Result.Type != "started" {
		t.Fatalf("first frame %+v; want started", f)
	}
	id, s := c.next()
	if s.Version != p.Version || id != strconv.FormatInt(p.Version, 10) || s.Name != "Bottle" {
		t.Fatalf("first event id %q %+v; want the current snapshot at version %d", id, s, p.Version)
	}
	for i := range 3 {
		name := fmt.Sprintf("Bottle %d", i)
		v := rtRename(t, b, tok, p.ID.String(), name)
		id, s := c.next()
		if s.Version != v || s.Name != name || id != strconv.FormatInt(v, 10) {
			t.Fatalf("after rename to %q: event id %q version %d name %q; want version %d", name, id, s.Version, s.Name, v)
		}
	}
}

func TestOnUpdateResumesAfterLastEventID(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle"})
	seen := rtRename(t, b, tok, p.ID.String(), "seen")

	// A client that has the current version gets nothing until the next change.
	c := rtDialWS(t, b, tok, nil)
	c.subscribe(p.ID.String(), strconv.FormatInt(seen, 10))
	v := rtRename(t, b, tok, p.ID.String(), "new")
	if _, s := c.next(); s.Version != v || s.Name != "new" {
		t.Fatalf("resumed at %d: first event version %d %q; want only the newer %d", seen, s.Version, s.Name, v)
	}

	// A client that is behind gets the current snapshot at once.
	old := rtDialWS(t, b, tok, nil)
	old.subscribe(p.ID.String(), strconv.FormatInt(p.Version, 10))
	if _, s := old.next(); s.Version != v {
		t.Fatalf("resumed at %d: got version %d; want the current %d", p.Version, s.Version, v)
	}
}

func TestOnUpdateOfSomeoneElsesProjectIsNotFound(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	p := createProject(t, b, token(t, "alice", auth.RoleAuthenticated), map[string]any{"name": "Bottle"})
	for _, id := range []string{p.ID.String(), "6f1c1c53-0a4e-4a0e-9a51-2c1f0c8e1a11"} {
		c := rtDialWS(t, b, token(t, "bob", auth.RoleAuthenticated), nil)
		c.subscribe(id, "")
		for {
			f := c.read()
			if f.Result != nil && f.Result.Type == "data" {
				t.Fatalf("bob received a snapshot of %s", id)
			}
			if f.Error != nil {
				if f.Error.Data.Code != "NOT_FOUND" {
					t.Fatalf("bob subscribing to %s: %s; want NOT_FOUND", id, f.Error.Data.Code)
				}
				break
			}
		}
	}
}

func TestClientThatNeverReadsDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle", "title": strings.Repeat("t", 150)})

	// The stuck client's receive buffer is tiny and it never reads, so the server's
	// writes to it soon block.
	stuck := rtDialWS(t, b, tok, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		}}).DialContext,
	}}})
	stuck.subscribe(p.ID.String(), "")
	fast := rtDialWS(t, b, tok, nil)
	fast.subscribe(p.ID.String(), "")
	fast.until(p.Version)

	for i := range 150 {
		name := fmt.Sprintf("Bottle %d", i)
		snap, err := b.svc.Update(context.Background(), pack.Caller{UserID: "alice"}, pack.UpdateInput{ID: p.ID.String(), Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if s := fast.until(snap.Version); s.Name != name {
			t.Fatalf("fast client at version %d has name %q; want %q", s.Version, s.Name, name)
		}
	}
}

func TestSubscriberOnOneInstanceSeesImageMadeOnAnother(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 2, 1) // only instance 1 runs jobs
	a, worker := c.instances[0], c.instances[1]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := readyProject(t, worker, tok)

	ws := rtDialWS(t, a, tok, nil)
	ws.subscribe(p.ID.String(), strconv.FormatInt(p.Version, 10))
	// One image keeps the test quick; a whole pack travels the same way.
	worker.mutate(t, tok, "image.generate", map[string]any{"projectId": p.ID, "type": "main"}).decode(t, new(pack.Jobs))

	sawGenerating := false
	for {
		_, s := ws.next()
		if s.Status == pack.StatusGenerating {
			sawGenerating = true
			continue
		}
		if s.Status == pack.StatusCompleted {
			if !sawGenerating || s.Progress != 100 {
				t.Fatalf("instance A: completed (progress %d) without seeing it generate first", s.Progress)
			}
			if main := slot(t, s, "main"); main.Status != "completed" || main.Image == nil {
				t.Fatalf("completed project with main slot %s, image %v", main.Status, main.Image != nil)
			}
			return
		}
		if s.Status != pack.StatusReady {
			t.Fatalf("instance A saw status %q", s.Status)
		}
	}
}

// rtSSEEvent is one server-sent event.
type rtSSEEvent struct{ event, id, data string }

// sseStream opens project.onUpdate over SSE (httpSubscriptionLink) with Last-Event-ID.
func rtSSEStream(t *testing.T, b *testBundle, tok, id, lastEventID string) <-chan rtSSEEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	input, _ := json.Marshal(map[string]string{"id": id})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/trpc/project.onUpdate?input="+url.QueryEscape(string(input)), nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE: status %d", resp.StatusCode)
	}
	out := make(chan rtSSEEvent, 16)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev rtSSEEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" || ev.event != "" {
					out <- ev
				}
				ev = rtSSEEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// nextSSE returns the next data event's id and snapshot.
func rtNextSSE(t *testing.T, events <-chan rtSSEEvent) (string, pack.Snapshot) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case <-timeout:
			t.Fatal("no SSE event")
		case ev, ok := <-events:
			if !ok {
				t.Fatal("SSE stream ended")
			}
			if ev.event != "" || ev.id == "" {
				continue // connected, ping
			}
			var s pack.Snapshot
			if err := json.Unmarshal([]byte(ev.data), &s); err != nil {
				t.Fatalf("SSE data %s: %v", ev.data, err)
			}
			return ev.id, s
		}
	}
}

func TestSSEResumesFromLastEventID(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle"})
	v2 := rtRename(t, b, tok, p.ID.String(), "two")

	fresh := rtSSEStream(t, b, tok, p.ID.String(), "")
	if id, s := rtNextSSE(t, fresh); id != strconv.FormatInt(v2, 10) || s.Name != "two" {
		t.Fatalf("new SSE stream: first event id %q name %q; want the current version %d", id, s.Name, v2)
	}
	resumed := rtSSEStream(t, b, tok, p.ID.String(), strconv.FormatInt(v2, 10))
	v3 := rtRename(t, b, tok, p.ID.String(), "three")
	if id, s := rtNextSSE(t, resumed); id != strconv.FormatInt(v3, 10) || s.Name != "three" {
		t.Fatalf("resumed at %d: first event id %q name %q; want only the newer %d", v2, id, s.Name, v3)
	}
}

func TestOnListUpdateSendsChangedProjects(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 2, -1)
	a, other := c.instances[0], c.instances[1]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, a, tok, map[string]any{"name": "Bottle"})
	createProject(t, a, token(t, "bob", auth.RoleAuthenticated), map[string]any{"name": "Not alice's"})

	ws := rtDialWS(t, a, tok, nil)
	ws.send(map[string]any{"id": 7, "method": "subscription", "params": map[string]any{"path": "project.onListUpdate", "input": nil}})
	v := rtRename(t, other, tok, p.ID.String(), "Renamed elsewhere")
	for {
		f := ws.read()
		if f.Error != nil {
			t.Fatalf("onListUpdate failed: %s", f.Error.Data.Code)
		}
		if f.Result == nil || f.Result.Type != "data" {
			continue
		}
		var item pack.Summary
		if err := json.Unmarshal(f.Result.Data, &item); err != nil {
			t.Fatalf("list event %s: %v", f.Result.Data, err)
		}
		if item.ID != p.ID {
			t.Fatalf("alice's list got project %s %q", item.ID, item.Name)
		}
		if item.Version == v {
			if item.Name != "Renamed elsewhere" {
				t.Fatalf("list item at version %d named %q", v, item.Name)
			}
			return
		}
	}
}

func TestOnUpdateEndsWithNotFoundWhenProjectIsDeleted(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle"})
	c := rtDialWS(t, b, tok, nil)
	c.subscribe(p.ID.String(), "")
	c.until(p.Version)
	b.mutate(t, tok, "project.delete", map[string]any{"id": p.ID}).decode(t, new(map[string]any))
	for {
		f := c.read()
		if f.Error != nil {
			if f.Error.Data.Code != "NOT_FOUND" {
				t.Fatalf("after delete: %s; want NOT_FOUND", f.Error.Data.Code)
			}
			return
		}
	}
}
