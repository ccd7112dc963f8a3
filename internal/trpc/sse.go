package trpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sseStream is one open long-lived HTTP stream (an SSE stream, or a JSONL
// response with a streaming query), which Shutdown ends and waits for.
type sseStream struct {
	cancel context.CancelFunc
}

// trackStream registers a long-lived HTTP stream, so Shutdown can cut it (through
// cancel) and wait for untrack. It returns false, registering nothing, when the
// router is draining.
func (r *Router) trackStream(cancel context.CancelFunc) (untrack func(), ok bool) {
	st := &sseStream{cancel: cancel}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return nil, false
	}
	r.streams[st] = struct{}{}
	r.streamWG.Add(1)
	return func() {
		r.mu.Lock()
		delete(r.streams, st)
		r.mu.Unlock()
		r.streamWG.Done()
	}, true
}

// serveSSE answers a subscription over HTTP with server-sent events:
// "connected" first, one event per value (with "id:" when tracked), "ping"
// while idle, "serialized-error" on failure and "return" only when the
// subscription really completed. A stream that ends without "return"
// (shutdown, SSEMaxDuration) makes EventSource reconnect with Last-Event-ID.
func (r *Router) serveSSE(w http.ResponseWriter, req *http.Request, pr *request) {
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	untrack, ok := r.trackStream(cancel)
	if !ok {
		writeSSEDrain(w, r.cfg.SSERetry)
		return
	}
	defer untrack()
	if r.cfg.Observer != nil {
		r.cfg.Observer.ConnOpened(TransportSSE)
		defer r.cfg.Observer.ConnClosed(TransportSSE)
	}
	if r.cfg.SSEMaxDuration > 0 {
		t := time.AfterFunc(r.cfg.SSEMaxDuration, cancel)
		defer t.Stop()
	}

	sw := newSSEWriter(w)
	if sw.write(r.sseConnectedEvent()) != nil {
		return
	}
	pingDone := r.pingSSE(ctx, sw)
	// Nothing may write once the handler returned (a ping that fired meanwhile, or a
	// subscription's late send): net/http reuses the response's buffers, so a late
	// write would panic in a goroutine or land in another request's response.
	defer func() {
		sw.finish()
		cancel()
		<-pingDone
	}()
	r.runSSE(ctx, cancel, req, pr, sw)
}

// runSSE runs the subscription of an open SSE stream: it admits the caller
// (connection slots, authentication, the expiry of the credentials), sends each
// value as an event, and ends the stream with "return", with "serialized-error",
// or (cut by ctx) with nothing.
func (r *Router) runSSE(ctx context.Context, cancel context.CancelFunc, req *http.Request, pr *request, sw *sseWriter) {
	c := &pr.calls[0]
	start := time.Now()
	// A panic in caller work (authentication, the subscription, encoding) ends the
	// stream with an INTERNAL_SERVER_ERROR event; the server carries on.
	defer func() {
		if v := recover(); v != nil {
			e := r.recovered(c.path, v)
			r.observeCall(c.path, TransportSSE, e, start)
			r.writeSSEError(sw, c.path, e)
		}
	}()
	refused := func(te *Error) {
		r.observeCall(c.path, TransportSSE, te, start)
		r.writeSSEError(sw, c.path, te)
	}
	releaseIP, te := r.acquireIP(req)
	if te != nil {
		refused(te)
		return
	}
	defer releaseIP()
	auth := &authState{req: AuthRequest{Header: req.Header, ConnectionParams: pr.connParams, Transport: TransportSSE}}
	cctx, te := r.contextFor(ctx, auth, c.proc)
	if te != nil {
		refused(te)
		return
	}
	session := r.sessionOf(auth)
	releaseUser, te := r.acquireUser(session)
	if te != nil {
		refused(te)
		return
	}
	defer releaseUser()
	// When the caller's credentials run out the stream ends without "return", so the
	// client reconnects with fresh ones (a new ticket) and resumes.
	defer r.atExpiry(session, cancel)()

	lastID := pr.lastEventID
	if lastID == "" {
		lastID = lastEventIDFromInput(c.input.json)
	}
	events := &sseEvents{ctx: ctx, r: r, w: sw}
	run, err := r.openSubscription(c.proc, c.input)
	if err == nil {
		err = r.safeSubscribe(cctx, c.proc, run, lastID, events.send)
	}
	var te2 *Error
	if err != nil && ctx.Err() == nil {
		te2 = r.toError(c.path, err)
	}
	r.observeCall(c.path, TransportSSE, te2, start)
	switch {
	case ctx.Err() != nil:
		// Cut without "return": the client reconnects and resumes.
	case te2 != nil:
		r.writeSSEError(sw, c.path, te2)
	default:
		_ = sw.write("event: return\ndata: \n\n")
	}
}

// atExpiry arms f for when the session's credentials run out, with the router's
// timer; the returned stop disarms it. A session without an expiry arms nothing.
func (r *Router) atExpiry(s Session, f func()) (stop func() bool) {
	if s.Expires.IsZero() {
		return func() bool { return false }
	}
	return orAfterFunc(r.expiryAfterFunc)(time.Until(s.Expires), f)
}

// orAfterFunc is hook (a test's stand-in for the timer) when set, else a
// time.AfterFunc whose stop is the timer's Stop.
func orAfterFunc(hook func(time.Duration, func()) func() bool) func(time.Duration, func()) func() bool {
	if hook != nil {
		return hook
	}
	return func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
}

// sseWriter writes an SSE response's events, each flushed; the pings and the
// subscription's sends (from any goroutine) go through it. Once finished it
// writes nothing more.
type sseWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	wrote   chan struct{} // a ping is due a full interval after the last write

	mu       sync.Mutex
	finished bool // the handler returned: w belongs to net/http again
}

// newSSEWriter answers 200 with an event stream's headers.
func newSSEWriter(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	return &sseWriter{w: w, flusher: flusher, wrote: make(chan struct{}, 1)}
}

// write writes and flushes s, one or more whole events.
func (sw *sseWriter) write(s string) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.finished {
		return errors.New("write event: the stream has finished")
	}
	if _, err := sw.w.Write([]byte(s)); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if sw.flusher != nil {
		sw.flusher.Flush()
	}
	select {
	case sw.wrote <- struct{}{}:
	default:
	}
	return nil
}

// finish makes every later write fail without touching the response.
func (sw *sseWriter) finish() {
	sw.mu.Lock()
	sw.finished = true
	sw.mu.Unlock()
}

// sseConnectedEvent is the stream's first event, with the client's options and
// the reconnect delay (retry) when one is configured.
func (r *Router) sseConnectedEvent() string {
	connected := "event: connected\ndata: " + r.sseClientOptions() + "\n"
	if r.cfg.SSERetry > 0 {
		connected += "retry: " + strconv.FormatInt(r.cfg.SSERetry.Milliseconds(), 10) + "\n"
	}
	return connected + "\n"
}

// pingSSE writes a ping whenever the stream was silent for SSEPingInterval,
// until ctx ends; the returned channel is closed once it stopped.
func (r *Router) pingSSE(ctx context.Context, sw *sseWriter) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.SSEPingInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sw.wrote:
				t.Reset(r.cfg.SSEPingInterval)
			case <-t.C:
				_ = sw.write("event: ping\ndata: \n\n")
			}
		}
	}()
	return done
}

// writeSSEError writes e as the stream's serialized-error event.
func (r *Router) writeSSEError(sw *sseWriter, path string, e *Error) {
	b, err := r.cfg.Transformer.serialize(e.shape(path))
	if err == nil {
		_ = sw.write("event: serialized-error\ndata: " + string(b) + "\n\n")
	}
}

// sseEvents turns a subscription's values into events.
type sseEvents struct {
	ctx context.Context
	r   *Router
	w   *sseWriter

	mu          sync.Mutex // send may be called from several goroutines
	sentTracked string     // the id of the last tracked event
}

// send writes one value, with "id:" when tracked. EventSource gives an event
// without an id the previous one's, so an untracked value after a tracked one
// clears the id and then restores it, and a reconnect still resumes after it.
func (e *sseEvents) send(id string, data any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	if strings.ContainsAny(id, "\x00\r\n") {
		return fmt.Errorf("event id %q contains a forbidden character", id)
	}
	b, err := e.r.safeSerialize(data)
	if err != nil {
		return err
	}
	ev := "data: " + string(b) + "\n"
	switch {
	case id != "":
		ev += "id: " + id + "\n\n"
		e.sentTracked = id
	case e.sentTracked != "":
		ev += "id: \n\nevent: restore-id\ndata: \nid: " + e.sentTracked + "\n\n"
	default:
		ev += "\n"
	}
	return e.w.write(ev)
}

// sseDrainRetry is the reconnect delay a draining router asks an SSE client for
// when Config.SSERetry is not set.
const sseDrainRetry = time.Second

// writeSSEDrain answers an SSE request that reached a draining router. An error
// status (or any other content type) would make EventSource give up for good, and
// httpSubscriptionLink with it; an event stream that ends at once without
// "return" is a dropped connection instead, which EventSource retries after the
// retry field's delay, with Last-Event-ID, and httpSubscriptionLink reports as
// "connecting". No "connected" event is sent, so the client is not told the
// subscription started.
func writeSSEDrain(w http.ResponseWriter, retry time.Duration) {
	if retry <= 0 {
		retry = sseDrainRetry
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, ": server is shutting down, reconnect\nretry: "+strconv.FormatInt(retry.Milliseconds(), 10)+"\n\n")
}

// sseClientOptions is the JSON of the connected event's data: the client's
// reconnectAfterInactivityMs, so a client whose stream went silent (a half-open
// connection: not even pings arrive) reconnects and resumes.
func (r *Router) sseClientOptions() string {
	d := r.cfg.SSEReconnectAfterInactivity
	if d == 0 {
		d = 3 * r.cfg.SSEPingInterval
	}
	if d < 0 {
		return "{}"
	}
	return `{"reconnectAfterInactivityMs":` + strconv.FormatInt(d.Milliseconds(), 10) + `}`
}

// openSubscription decodes a subscription's input, turning a panic (in a
// Validate method) into an error.
func (r *Router) openSubscription(p *procedure, in input) (run subscriptionRun, err error) {
	defer func() {
		if v := recover(); v != nil {
			run, err = nil, fmt.Errorf("panic in subscription %s: %v", p.path, v)
		}
	}()
	return p.subscribe(in)
}

// safeSubscribe runs an opened subscription, turning a panic into an error.
func (r *Router) safeSubscribe(ctx context.Context, p *procedure, run subscriptionRun, lastID string, send func(string, any) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic in subscription %s: %v", p.path, v)
		}
	}()
	err = run(ctx, lastID, send)
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// lastEventIDFromInput reads the lastEventId the client merged into an
// object input (httpSubscriptionLink after inactivity, wsLink on
// resubscribe).
func lastEventIDFromInput(raw []byte) string {
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var v struct {
		LastEventID *string `json:"lastEventId"`
	}
	if json.Unmarshal(raw, &v) != nil || v.LastEventID == nil {
		return ""
	}
	return *v.LastEventID
}
