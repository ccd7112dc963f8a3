package trpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsOversizeFactor bounds what the server reads of a message larger than MaxBodyBytes:
// up to this many times the limit, it is discarded as it arrives and answered with
// PAYLOAD_TOO_LARGE for its id (the socket stays); beyond that the socket is closed
// with 1009 (message too big).
const wsOversizeFactor = 8

// wsQueueSize is how many outgoing frames one connection may have queued
// before its producers wait for the client to read.
const wsQueueSize = 64

// WebSocketHandler returns the handler for wsLink (createWSClient): mount it
// at /ws. It checks Origin against Config.AllowedOrigins, waits for the
// connectionParams message when the URL has connectionParams=1, answers
// PING with PONG in order, and runs queries, mutations and subscriptions
// concurrently, each connection with its own writer. The connection limits of
// Config (per address and user, calls and subscriptions per socket, the
// connectionParams deadline, the message size) and the expiry of the
// caller's credentials apply; see limits.go.
func (r *Router) WebSocketHandler() http.Handler {
	return http.HandlerFunc(r.serveWS)
}

// wsConn is one WebSocket connection.
type wsConn struct {
	r      *Router
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []byte
	auth   *authState
	done   chan struct{}

	// session is the caller's, known once authentication ran (before the first call);
	// releaseUser gives back its per-user connection slot, expiry fires at its end.
	session     Session
	releaseUser func()
	stopExpiry  func() bool

	mu        sync.Mutex
	subs      map[string]*wsSub
	inFlight  int  // queries and mutations running
	expired   bool // the credentials ran out: calls are refused
	graceOver bool // ... and AuthTimeout has passed since: close once inFlight is 0
}

// wsSub is one running subscription of a connection.
type wsSub struct {
	mu      sync.Mutex
	stopped bool
	cancel  context.CancelFunc
}

func (r *Router) serveWS(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing {
		r.writeTopLevel(w, Errorf(CodeServiceUnavailable, "Server is shutting down"))
		return
	}
	// Counted before the upgrade, so a flood from one address costs no sockets.
	releaseIP, te := r.acquireIP(req)
	if te != nil {
		r.writeTopLevel(w, te)
		return
	}
	defer releaseIP()
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{
		OriginPatterns:     r.cfg.AllowedOrigins,
		InsecureSkipVerify: slices.Contains(r.cfg.AllowedOrigins, "*"),
	})
	if err != nil {
		return // Accept has answered (403 for a foreign Origin).
	}
	ws.SetReadLimit(r.cfg.MaxBodyBytes * wsOversizeFactor)
	ctx, cancel := context.WithCancel(context.WithoutCancel(req.Context()))
	c := &wsConn{
		r: r, ws: ws, ctx: ctx, cancel: cancel,
		out:  make(chan []byte, wsQueueSize),
		auth: &authState{req: AuthRequest{Header: req.Header, Transport: TransportWebSocket}},
		done: make(chan struct{}),
		subs: map[string]*wsSub{},
	}
	r.mu.Lock()
	r.wsConns[c] = struct{}{}
	r.mu.Unlock()
	if r.cfg.Observer != nil {
		r.cfg.Observer.ConnOpened(TransportWebSocket)
	}
	defer func() {
		if c.stopExpiry != nil {
			c.stopExpiry()
		}
		if c.releaseUser != nil {
			c.releaseUser()
		}
		c.stopAll()
		cancel()
		<-c.done
		_ = ws.CloseNow()
		r.mu.Lock()
		delete(r.wsConns, c)
		r.mu.Unlock()
		if r.cfg.Observer != nil {
			r.cfg.Observer.ConnClosed(TransportWebSocket)
		}
	}()
	go c.writeLoop()
	if req.URL.Query().Get("connectionParams") == "1" && !c.readConnectionParams() {
		return
	}
	if !c.startSession() {
		return
	}
	c.readLoop()
}

// startSession authenticates the connection before its first call: it takes the
// user's connection slot and arms the expiry of the user's credentials. A socket whose
// authentication failed is refused with UNAUTHORIZED and closed when the router has no
// public procedure (it could never run a call); otherwise it stays open anonymously (its
// calls are refused one by one, as over HTTP) and only the per-IP cap counts it.
func (c *wsConn) startSession() bool {
	s, te := c.r.authenticate(c.ctx, c.auth)
	if te == nil {
		te = c.r.refuseUnauthenticated(c.ctx, c.auth)
	}
	if te != nil {
		c.fail(te)
		return false
	}
	release, te := c.r.acquireUser(s)
	if te != nil {
		c.fail(te)
		return false
	}
	c.session, c.releaseUser = s, release
	c.stopExpiry = c.r.atExpiry(s, c.expire)
	return true
}

// expire ends the use of credentials that ran out, the way a wsLink client recovers
// from: new calls are refused with UNAUTHORIZED; subscriptions are cancelled without
// "stopped" (so the client resubscribes, resuming from lastEventId); the client is sent
// the reconnect notice, on which it opens a new socket with fresh connectionParams
// (a connectionParams function is called again) and closes this one once the calls it
// sent here are answered. Calls already running finish and are answered: a client that
// ignores the notice has its socket closed (1008) AuthTimeout after it, or once its last
// running call has answered if that is later, which makes wsLink reconnect too.
func (c *wsConn) expire() {
	c.mu.Lock()
	c.expired = true
	c.mu.Unlock()
	c.stopAll()
	c.send([]byte(`{"id":null,"method":"reconnect"}`))
	orAfterFunc(c.r.graceAfterFunc)(c.r.authTimeout(), func() {
		c.mu.Lock()
		c.graceOver = true
		idle := c.inFlight == 0
		c.mu.Unlock()
		if idle {
			c.closeExpired()
		}
	})
}

// closeExpired closes the socket of expired credentials with 1008 once the frames
// queued before it (the answers of the last calls) are written.
func (c *wsConn) closeExpired() {
	c.send(nil)
}

// isExpired reports whether the connection's credentials ran out, even if the timer
// has not fired yet.
func (c *wsConn) isExpired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expired || c.session.expired(time.Now())
}

// writeLoop is the connection's only writer, so a slow client holds up
// only its own calls.
func (c *wsConn) writeLoop() {
	defer close(c.done)
	for {
		select {
		case <-c.ctx.Done():
			return
		case msg := <-c.out:
			if msg == nil { // closeExpired
				_ = c.ws.Close(websocket.StatusPolicyViolation, "token expired")
				c.cancel()
				return
			}
			wctx, cancel := context.WithTimeout(c.ctx, c.r.cfg.WriteTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// send queues a frame, waiting while the queue is full.
func (c *wsConn) send(msg []byte) bool {
	select {
	case c.out <- msg:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// sendError sends an error for id (raw JSON id, or nil for id:null);
// prefix is `"jsonrpc":"2.0",` when the request carried it.
func (c *wsConn) sendError(id json.RawMessage, prefix, path string, te *Error) {
	b, err := c.r.cfg.Transformer.serialize(te.shape(path))
	if err != nil {
		return
	}
	c.send(frame(id, prefix+`"error":`+string(b)))
}

func frame(id json.RawMessage, body string) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return []byte(`{"id":` + string(id) + `,` + body + `}`)
}

// readConnectionParams reads the connectionParams message, which must come within
// AuthTimeout: a socket that sends nothing is closed, so idle sockets cannot pile up.
func (c *wsConn) readConnectionParams() bool {
	d := c.r.authTimeout()
	timer := time.AfterFunc(d, func() {
		c.fail(c.r.refuse(LimitAuthTimeout, CodeTimeout, "No connectionParams message within %s", d))
	})
	_, data, tooBig, err := c.readMessage()
	if !timer.Stop() || err != nil {
		return false
	}
	if tooBig {
		c.fail(c.r.refuse(LimitMessageBytes, CodePayloadTooLarge, "connectionParams message is larger than %d bytes", c.r.cfg.MaxBodyBytes))
		return false
	}
	var msg struct {
		Method string          `json:"method"`
		Data   json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.Method != "connectionParams" {
		c.fail(Errorf(CodeParseError, "Expected the connectionParams message first"))
		return false
	}
	if len(msg.Data) > 0 && string(msg.Data) != "null" {
		params, te := parseConnectionParams(msg.Data)
		if te != nil {
			c.fail(te)
			return false
		}
		c.auth.req.ConnectionParams = params
	}
	return true
}

// fail sends a connection-level error and closes the connection. It
// writes directly (Conn allows a concurrent writer) so the error is on the
// wire before the close frame.
func (c *wsConn) fail(te *Error) {
	if b, err := c.r.cfg.Transformer.serialize(te.shape("")); err == nil {
		wctx, cancel := context.WithTimeout(c.ctx, c.r.cfg.WriteTimeout)
		_ = c.ws.Write(wctx, websocket.MessageText, frame(nil, `"error":`+string(b)))
		cancel()
	}
	_ = c.ws.Close(websocket.StatusPolicyViolation, te.message())
}

// readMessage reads one message of at most MaxBodyBytes. A larger one is discarded as
// it arrives; tooBig is then true and data holds its first MaxBodyBytes.
func (c *wsConn) readMessage() (typ websocket.MessageType, data []byte, tooBig bool, err error) {
	typ, rd, err := c.ws.Reader(c.ctx)
	if err != nil {
		return 0, nil, false, err
	}
	max := c.r.cfg.MaxBodyBytes
	data, err = io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return 0, nil, false, err
	}
	if int64(len(data)) <= max {
		return typ, data, false, nil
	}
	if _, err := io.Copy(io.Discard, rd); err != nil {
		return 0, nil, false, err // past wsOversizeFactor: the socket is closed
	}
	return typ, data[:max], true, nil
}

// refuseOversize answers a message larger than MaxBodyBytes: PAYLOAD_TOO_LARGE for each
// id readable in its first bytes, at most MaxBatchSize of them (a frame cannot hold more
// calls), then once for id null when there were more or none; the socket kept.
func (c *wsConn) refuseOversize(prefix []byte) {
	te := c.r.refuse(LimitMessageBytes, CodePayloadTooLarge, "Message is larger than %d bytes", c.r.cfg.MaxBodyBytes)
	ids := prefixIDs(prefix, c.r.cfg.MaxBatchSize+1)
	more := len(ids) > c.r.cfg.MaxBatchSize
	if more {
		ids = ids[:c.r.cfg.MaxBatchSize]
	}
	for _, id := range ids {
		c.sendError(id, "", "", te)
	}
	if len(ids) == 0 || more {
		c.sendError(nil, "", "", te)
	}
}

// prefixIDs returns the request ids (numbers or strings) readable in the first bytes of
// a message: the "id" of a single request, or of each request of an array frame; at
// most max of them.
func prefixIDs(prefix []byte, max int) []json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	type level struct {
		object    bool
		expectKey bool
		key       string
	}
	var stack []level
	var ids []json.RawMessage
	for len(ids) < max {
		tok, err := dec.Token()
		if err != nil {
			return ids // the end of what was read
		}
		var top *level
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		if top != nil && top.object && top.expectKey {
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		// tok is a value.
		switch v := tok.(type) {
		case json.Delim:
			stack = append(stack, level{object: v == '{', expectKey: v == '{'})
			continue
		case string, json.Number:
			// A request is an object at depth 1, or inside the array at depth 2.
			if top != nil && top.object && top.key == "id" && (len(stack) == 1 || (len(stack) == 2 && !stack[0].object)) {
				if b, err := json.Marshal(v); err == nil {
					ids = append(ids, b)
				}
			}
		}
		if top != nil && top.object {
			top.expectKey = true
		}
	}
	return ids
}

func (c *wsConn) readLoop() {
	for {
		typ, data, tooBig, err := c.readMessage()
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if tooBig {
			c.refuseOversize(data)
			continue
		}
		switch string(data) {
		case "PING":
			c.send([]byte("PONG"))
			continue
		case "PONG":
			continue
		}
		data = bytes.TrimSpace(data)
		if len(data) > 0 && data[0] == '[' {
			var msgs []json.RawMessage
			if err := json.Unmarshal(data, &msgs); err != nil {
				c.sendError(nil, "", "", Errorf(CodeParseError, "Malformed message"))
				continue
			}
			if len(msgs) > c.r.cfg.MaxBatchSize {
				for _, m := range msgs {
					c.sendError(messageID(m), "", "", Errorf(CodeBadRequest, "Batch call exceeds maximum size"))
				}
				continue
			}
			for _, m := range msgs {
				c.handle(m)
			}
			continue
		}
		c.handle(data)
	}
}

// wsMessage is one client request.
type wsMessage struct {
	ID      json.RawMessage `json:"id"`
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  struct {
		Input       json.RawMessage `json:"input"`
		Path        string          `json:"path"`
		LastEventID *string         `json:"lastEventId"`
	} `json:"params"`
}

func messageID(raw json.RawMessage) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(raw, &m)
	if !validID(m.ID) {
		return nil
	}
	return m.ID
}

func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	var v any
	if json.Unmarshal(id, &v) != nil {
		return false
	}
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

// handle processes one request in arrival order; calls run in their own
// goroutines, but registering and stopping subscriptions happens here so
// that a stop always finds the subscription it names.
func (c *wsConn) handle(raw json.RawMessage) {
	var m wsMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		c.sendError(messageID(raw), "", "", &Error{Code: CodeParseError, Message: "Malformed message", Err: err})
		return
	}
	if m.Method == "connectionParams" {
		return
	}
	if !validID(m.ID) {
		c.sendError(nil, "", "", Errorf(CodeParseError, "`id` is required"))
		return
	}
	id := m.ID
	prefix := ""
	if m.JSONRPC != "" {
		prefix = `"jsonrpc":"2.0",`
	}
	switch m.Method {
	case "subscription.stop":
		c.stopSubscription(id, prefix)
		return
	case "query", "mutation", "subscription":
	default:
		c.sendError(id, prefix, "", Errorf(CodeMethodNotSupported, "Unknown method %q", m.Method))
		return
	}
	path := m.Params.Path
	if c.isExpired() {
		c.sendError(id, prefix, "", Errorf(CodeUnauthorized, "Token expired: reconnect with a fresh token"))
		return
	}
	p, te := c.r.wsProcedure(m.Method, path)
	if te != nil {
		c.sendError(id, prefix, path, te)
		return
	}
	var in input
	in.json, in.err = c.r.deserialize(m.Params.Input)
	if p.kind != kindSubscription {
		c.startUnary(id, prefix, p, in)
		return
	}
	lastID := ""
	if m.Params.LastEventID != nil {
		lastID = *m.Params.LastEventID
	} else {
		lastID = lastEventIDFromInput(in.json)
	}
	c.startSubscription(id, prefix, p, in, lastID)
}

// wsProcedure finds the procedure a request of method names. A missing procedure
// and one of another type (a subscription called as a query, a query as a
// subscription) are both NOT_FOUND, as in the reference server; neither is
// "started".
func (r *Router) wsProcedure(method, path string) (*procedure, *Error) {
	p := r.procs[path]
	if p != nil && p.stream && method == "query" {
		return nil, errStreamQueryOverWS
	}
	if p == nil || string(p.kind) != method {
		return nil, Errorf(CodeNotFound, "No %q-procedure on path %q", method, path)
	}
	return p, nil
}

// stopSubscription stops the client's subscription id, if it runs, and answers
// "stopped" either way.
func (c *wsConn) stopSubscription(id json.RawMessage, prefix string) {
	key := idKey(id)
	c.mu.Lock()
	sub := c.subs[key]
	delete(c.subs, key)
	c.mu.Unlock()
	if sub != nil {
		sub.mu.Lock()
		sub.stopped = true
		sub.cancel()
		sub.mu.Unlock()
	}
	c.send(frame(id, prefix+`"result":{"type":"stopped"}`))
}

// startUnary runs a query or mutation in its own goroutine, unless
// MaxCallsInFlight are running already.
func (c *wsConn) startUnary(id json.RawMessage, prefix string, p *procedure, in input) {
	c.mu.Lock()
	full := c.r.cfg.MaxCallsInFlight > 0 && c.inFlight >= c.r.cfg.MaxCallsInFlight
	if !full {
		c.inFlight++
	}
	c.mu.Unlock()
	if full {
		c.sendError(id, prefix, p.path, c.r.refuse(LimitCallsInFlight, CodeTooManyRequests,
			"Too many calls in flight on this connection: %d are running", c.r.cfg.MaxCallsInFlight))
		return
	}
	go c.runUnary(id, prefix, p, in)
}

// startSubscription registers subscription id and runs it in its own goroutine,
// unless the id is taken or MaxSubscriptions are open already.
func (c *wsConn) startSubscription(id json.RawMessage, prefix string, p *procedure, in input, lastID string) {
	key := idKey(id)
	c.mu.Lock()
	if _, dup := c.subs[key]; dup {
		c.mu.Unlock()
		c.sendError(id, prefix, p.path, Errorf(CodeBadRequest, "Duplicate id %s", id))
		return
	}
	if max := c.r.cfg.MaxSubscriptions; max > 0 && len(c.subs) >= max {
		c.mu.Unlock()
		c.sendError(id, prefix, p.path, c.r.refuse(LimitSubscriptions, CodeTooManyRequests,
			"Too many subscriptions on this connection: %d are open", max))
		return
	}
	sctx, cancel := context.WithCancel(c.ctx)
	sub := &wsSub{cancel: cancel}
	c.subs[key] = sub
	c.mu.Unlock()
	go c.runSubscription(sctx, id, key, prefix, p, in, lastID, sub)
}

func idKey(id json.RawMessage) string {
	var v any
	_ = json.Unmarshal(id, &v)
	return fmt.Sprintf("%T:%v", v, v)
}

// runUnary runs a query or mutation and answers it. A panic anywhere in it (the
// procedure, authentication, encoding) is answered as INTERNAL_SERVER_ERROR and logged.
func (c *wsConn) runUnary(id json.RawMessage, prefix string, p *procedure, in input) {
	start := time.Now()
	res := &result{path: p.path}
	defer func() {
		c.mu.Lock()
		c.inFlight--
		last := c.inFlight == 0 && c.graceOver
		c.mu.Unlock()
		c.r.observeCall(p.path, TransportWebSocket, res.err, start)
		if last {
			c.closeExpired() // after this call's answer, queued above
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			res.err = c.r.recovered(p.path, v)
			c.sendError(id, prefix, p.path, res.err)
		}
	}()
	cctx, te := c.r.contextFor(c.ctx, c.auth, p)
	if te != nil {
		res.err = te
	} else if out, err := c.r.safeCall(cctx, p, in); err != nil {
		res.err = c.r.toError(p.path, err)
	} else {
		res.data, res.void = out, p.outType == voidType
	}
	if res.err == nil {
		if res.void && c.r.cfg.Transformer != TransformerSuperJSON {
			c.send(frame(id, prefix+`"result":{"type":"data"}`))
			return
		}
		b, err := c.r.dataJSON(res)
		if err == nil {
			c.send(frame(id, prefix+`"result":{"type":"data","data":`+string(b)+`}`))
			return
		}
		res.err = c.r.toError(p.path, err)
	}
	c.sendError(id, prefix, p.path, res.err)
}

// dataJSON serializes a result's data; a Void output is superjson's
// undefined (under JSON the caller leaves data out).
func (r *Router) dataJSON(res *result) ([]byte, error) {
	if res.void {
		return []byte(`{"json":null,"meta":{"values":["undefined"],"v":1}}`), nil
	}
	return r.safeSerialize(res.data)
}

// safeSerialize applies the transformer to v, turning a panic (a MarshalJSON that
// panics) into an error.
func (r *Router) safeSerialize(v any) (b []byte, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("panic while encoding: %v", x)
		}
	}()
	return r.cfg.Transformer.serialize(v)
}

type trackedData struct {
	ID   string `json:"id"`
	Data any    `json:"data"`
}

// runSubscription runs a subscription until it ends, is stopped or the connection
// closes. A panic in it is answered as INTERNAL_SERVER_ERROR and logged.
func (c *wsConn) runSubscription(ctx context.Context, id json.RawMessage, key, prefix string, p *procedure, in input, lastID string, sub *wsSub) {
	start := time.Now()
	defer func() {
		c.mu.Lock()
		if c.subs[key] == sub {
			delete(c.subs, key)
		}
		c.mu.Unlock()
		sub.cancel()
	}()
	defer func() {
		if v := recover(); v != nil {
			e := c.r.recovered(p.path, v)
			c.r.observeCall(p.path, TransportWebSocket, e, start)
			c.sendError(id, prefix, p.path, e)
		}
	}()
	// emit sends a frame unless the client stopped the subscription.
	emit := func(msg []byte) error {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if sub.stopped || ctx.Err() != nil {
			return context.Canceled
		}
		if !c.send(msg) {
			return context.Canceled
		}
		return nil
	}
	// Authentication and the input are checked before "started": a refusal is
	// the subscription's only answer (no "stopped"), as in the reference server.
	cctx, te := c.r.contextFor(ctx, c.auth, p)
	if te != nil {
		c.r.observeCall(p.path, TransportWebSocket, te, start)
		c.sendError(id, prefix, p.path, te)
		return
	}
	run, err := c.r.openSubscription(p, in)
	if err != nil {
		e := c.r.toError(p.path, err)
		c.r.observeCall(p.path, TransportWebSocket, e, start)
		if !sub.isStopped() && ctx.Err() == nil {
			c.sendError(id, prefix, p.path, e)
		}
		return
	}
	if emit(frame(id, prefix+`"result":{"type":"started"}`)) != nil {
		return
	}
	send := func(eid string, data any) error {
		var b []byte
		var err error
		body := `"result":{"type":"data","data":`
		if eid != "" {
			b, err = c.r.safeSerialize(trackedData{ID: eid, Data: data})
			idj, _ := json.Marshal(eid)
			body = `"result":{"type":"data","id":` + string(idj) + `,"data":`
		} else {
			b, err = c.r.safeSerialize(data)
		}
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		return emit(frame(id, prefix+body+string(b)+`}`))
	}
	err = c.r.safeSubscribe(cctx, p, run, lastID, send)
	if sub.isStopped() || ctx.Err() != nil {
		c.r.observeCall(p.path, TransportWebSocket, nil, start)
		return // stopped by the client (already answered) or shutdown.
	}
	var e *Error
	if err != nil && !errors.Is(err, context.Canceled) {
		e = c.r.toError(p.path, err)
		c.sendError(id, prefix, p.path, e)
	}
	c.r.observeCall(p.path, TransportWebSocket, e, start)
	_ = emit(frame(id, prefix+`"result":{"type":"stopped"}`))
}

// isStopped reports whether the client stopped the subscription.
func (s *wsSub) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// stopAll cancels every subscription without telling the client, which
// resubscribes on its next connection.
func (c *wsConn) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.subs {
		s.cancel()
		delete(c.subs, k)
	}
}
