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

// sseStream is one open httpSubscriptionLink stream.
type sseStream struct {
	cancel context.CancelFunc
}

// serveSSE answers a subscription over HTTP with server-sent events:
// "connected" first, one event per value (with "id:" when tracked), "ping"
// while idle, "serialized-error" on failure and "return" only when the
// subscription really completed. A stream that ends without "return"
// (shutdown, SSEMaxDuration) makes EventSource reconnect with Last-Event-ID.
func (r *Router) serveSSE(w http.ResponseWriter, req *http.Request, pr *request) {
	c := &pr.calls[0]
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	st := &sseStream{cancel: cancel}
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		writeSSEDrain(w, r.cfg.SSERetry)
		return
	}
	r.streams[st] = struct{}{}
	r.streamWG.Add(1)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.streams, st)
		r.mu.Unlock()
		r.streamWG.Done()
	}()
	if r.cfg.Observer != nil {
		r.cfg.Observer.ConnOpened(TransportSSE)
		defer r.cfg.Observer.ConnClosed(TransportSSE)
	}
	if r.cfg.SSEMaxDuration > 0 {
		t := time.AfterFunc(r.cfg.SSEMaxDuration, cancel)
		defer t.Stop()
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var mu sync.Mutex
	finished := false // the handler returned: w belongs to net/http again
	wrote := make(chan struct{}, 1)
	write := func(s string) error {
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return errors.New("write event: the stream has finished")
		}
		if _, err := w.Write([]byte(s)); err != nil {
			return fmt.Errorf("write event: %w", err)
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case wrote <- struct{}{}:
		default:
		}
		return nil
	}
	connected := "event: connected\ndata: " + r.sseClientOptions() + "\n"
	if r.cfg.SSERetry > 0 {
		connected += "retry: " + strconv.FormatInt(r.cfg.SSERetry.Milliseconds(), 10) + "\n"
	}
	if write(connected+"\n") != nil {
		return
	}
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		t := time.NewTicker(r.cfg.SSEPingInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-wrote:
				t.Reset(r.cfg.SSEPingInterval)
			case <-t.C:
				_ = write("event: ping\ndata: \n\n")
			}
		}
	}()
	// Nothing may write once the handler returned (a ping that fired meanwhile, or a
	// subscription's late send): net/http reuses the response's buffers, so a late
	// write would panic in a goroutine or land in another request's response.
	defer func() {
		mu.Lock()
		finished = true
		mu.Unlock()
		cancel()
		<-pingDone
	}()
	sendErr := func(e *Error) {
		b, err := r.cfg.Transformer.serialize(e.shape(c.path))
		if err == nil {
			_ = write("event: serialized-error\ndata: " + string(b) + "\n\n")
		}
	}

	start := time.Now()
	// A panic in caller work (authentication, the subscription, encoding) ends the
	// stream with an INTERNAL_SERVER_ERROR event; the server carries on.
	defer func() {
		if v := recover(); v != nil {
			e := r.recovered(c.path, v)
			r.observeCall(c.path, TransportSSE, e, start)
			sendErr(e)
		}
	}()
	refused := func(te *Error) {
		r.observeCall(c.path, TransportSSE, te, start)
		sendErr(te)
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
	if !session.Expires.IsZero() {
		// The caller's credentials run out: the stream ends without "return", so the
		// client reconnects with fresh ones (a new ticket) and resumes.
		after := r.expiryAfterFunc
		if after == nil {
			after = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
		}
		stop := after(time.Until(session.Expires), cancel)
		defer stop()
	}
	lastID := pr.lastEventID
	if lastID == "" {
		lastID = lastEventIDFromInput(c.input.json)
	}
	var idMu sync.Mutex // send may be called from several goroutines
	var sentTracked string
	send := func(id string, data any) error {
		idMu.Lock()
		defer idMu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.ContainsAny(id, "\x00\r\n") {
			return fmt.Errorf("event id %q contains a forbidden character", id)
		}
		b, err := r.safeSerialize(data)
		if err != nil {
			return err
		}
		ev := "data: " + string(b) + "\n"
		switch {
		case id != "":
			ev += "id: " + id + "\n\n"
			sentTracked = id
		case sentTracked != "":
			// EventSource would give this event the previous id; clear it,
			// then restore it so a reconnect still resumes after it.
			ev += "id: \n\nevent: restore-id\ndata: \nid: " + sentTracked + "\n\n"
		default:
			ev += "\n"
		}
		return write(ev)
	}
	run, err := r.openSubscription(c.proc, c.input)
	if err == nil {
		err = r.safeSubscribe(cctx, c.proc, run, lastID, send)
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
		sendErr(te2)
	default:
		_ = write("event: return\ndata: \n\n")
	}
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
