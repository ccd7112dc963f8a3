package trpc

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// serveJSONL answers an httpBatchStreamLink request: a head line that makes
// every call a promise, then one line per call as it finishes, each flushed.
//
//	{"0":[[0],[null,0,0]],"1":[[0],[null,0,1]]}
//	[1,0,[[{"result":{"data":…}}]]]
//	[0,0,[[{"error":{…}}]]]
//
// The client awaits the head's promise, then .result, then .data, so the
// whole envelope resolving in one chunk is valid.
//
// A streaming query's call (Stream) answers an async iterable instead (see
// streamCall); a response with one counts against MaxConnsPerIP and
// MaxConnsPerUser while it is open, and a refusal is the whole response's
// TOO_MANY_REQUESTS.
func (r *Router) serveJSONL(w http.ResponseWriter, req *http.Request, pr *request, auth *authState) {
	ctx := req.Context()
	if pr.hasStream() {
		sctx, release, te := r.admitStreamingResponse(ctx, w, req, auth)
		if te != nil {
			r.writeTopLevel(w, te)
			return
		}
		defer release()
		ctx = sctx
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	lw := newJSONLWriter(w, r.streamTransformer(pr), len(pr.calls))
	for i := range pr.calls {
		c := &pr.calls[i]
		if c.err == nil && c.proc != nil && c.proc.stream {
			c.streamTo = func(ctx context.Context, run subscriptionRun) *Error {
				return r.streamCall(ctx, i, c, run, lw.newChunk, lw.writeLine)
			}
		}
	}
	head := make(map[string]any, len(pr.calls))
	for i := range pr.calls {
		head[strconv.Itoa(i)] = []any{[]any{0}, []any{nil, 0, i}}
	}
	_ = lw.writeLine(head)
	r.eachCall(ctx, auth, pr.calls, func(i int, res *result) {
		if res.streamed {
			return // streamCall wrote it
		}
		line := []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		if _, err := lw.tr.serialize(line); err != nil {
			res.err = r.toError(res.path, err)
			res.data = nil
			line = []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		}
		_ = lw.writeLine(line)
	})
}

// admitStreamingResponse readies a JSONL response with a streaming query's call,
// a long-lived connection as an SSE stream is: it takes the same per-address and
// per-user slots, outlives any read timeout (the body, if any, is read), and ends
// when the router drains (ctx is then cancelled; at once if it is draining
// already). release gives the slots back; on a refusal they are given back
// already.
func (r *Router) admitStreamingResponse(ctx context.Context, w http.ResponseWriter, req *http.Request, auth *authState) (sctx context.Context, release func(), te *Error) {
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	admitted := false
	defer func() {
		if !admitted { // refused, or a panic in authentication
			undoAll()
		}
	}()
	releaseIP, te := r.acquireIP(req)
	if te != nil {
		return nil, nil, te
	}
	undo = append(undo, releaseIP)
	s, te := r.authenticate(ctx, auth)
	if te != nil {
		return nil, nil, te
	}
	releaseUser, te := r.acquireUser(s)
	if te != nil {
		return nil, nil, te
	}
	undo = append(undo, releaseUser)
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	sctx, cancel := context.WithCancel(ctx)
	undo = append(undo, cancel)
	if untrack, ok := r.trackStream(cancel); ok {
		undo = append(undo, untrack)
	} else {
		cancel()
	}
	admitted = true
	return sctx, undoAll, nil
}

// jsonlWriter writes a JSONL response's lines, each flushed, from any goroutine,
// and numbers its chunks.
type jsonlWriter struct {
	w       http.ResponseWriter
	tr      Transformer
	flusher http.Flusher

	mu        sync.Mutex
	nextChunk int
}

// newJSONLWriter writes lines to w with tr; chunks are numbered after the calls'
// promises, from calls on.
func newJSONLWriter(w http.ResponseWriter, tr Transformer, calls int) *jsonlWriter {
	flusher, _ := w.(http.Flusher)
	return &jsonlWriter{w: w, tr: tr, flusher: flusher, nextChunk: calls}
}

// writeLine serializes v and writes it as one line. An error writing it (the
// client is gone) is a *jsonlWriteError.
func (lw *jsonlWriter) writeLine(v any) error {
	b, err := lw.tr.serialize(v)
	if err != nil {
		return fmt.Errorf("encode jsonl line: %w", err)
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if _, err := lw.w.Write(append(b, '\n')); err != nil {
		return &jsonlWriteError{err: err}
	}
	if lw.flusher != nil {
		if err := http.NewResponseController(lw.w).Flush(); err != nil {
			return &jsonlWriteError{err: err}
		}
	}
	return nil
}

// newChunk returns the next free chunk number.
func (lw *jsonlWriter) newChunk() int {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.nextChunk++
	return lw.nextChunk - 1
}

// envelopeValue is the envelope as a value, for transports that serialize
// the whole line (JSONL).
func (r *Router) envelopeValue(res *result) any {
	if res.err != nil {
		return map[string]any{"error": res.err.shape(res.path)}
	}
	if res.void {
		return map[string]any{"result": map[string]any{}}
	}
	return map[string]any{"result": map[string]any{"data": res.data}}
}

// hasStream reports whether some call of pr is a streaming query's.
func (pr *request) hasStream() bool {
	for _, c := range pr.calls {
		if c.err == nil && c.proc != nil && c.proc.stream {
			return true
		}
	}
	return false
}
