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
		// A response that streams is a long-lived connection as an SSE stream
		// is: it takes the same per-address and per-user slots.
		releaseIP, te := r.acquireIP(req)
		if te != nil {
			r.writeTopLevel(w, te)
			return
		}
		defer releaseIP()
		s, te := r.authenticate(ctx, auth)
		if te != nil {
			r.writeTopLevel(w, te)
			return
		}
		releaseUser, te := r.acquireUser(s)
		if te != nil {
			r.writeTopLevel(w, te)
			return
		}
		defer releaseUser()
		// It outlives any read timeout (the body, if any, is read), and ends
		// when the router drains, as an SSE stream does.
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st := &sseStream{cancel: cancel}
		r.mu.Lock()
		closing := r.closing
		if !closing {
			r.streams[st] = struct{}{}
			r.streamWG.Add(1)
		}
		r.mu.Unlock()
		if closing {
			cancel()
		} else {
			defer func() {
				r.mu.Lock()
				delete(r.streams, st)
				r.mu.Unlock()
				r.streamWG.Done()
			}()
		}
		ctx = sctx
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	tr := r.streamTransformer(pr)
	var mu sync.Mutex
	writeLine := func(v any) error {
		b, err := tr.serialize(v)
		if err != nil {
			return fmt.Errorf("encode jsonl line: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := w.Write(append(b, '\n')); err != nil {
			return &jsonlWriteError{err: err}
		}
		if flusher != nil {
			if err := http.NewResponseController(w).Flush(); err != nil {
				return &jsonlWriteError{err: err}
			}
		}
		return nil
	}
	nextChunk := len(pr.calls)
	newChunk := func() int {
		mu.Lock()
		defer mu.Unlock()
		nextChunk++
		return nextChunk - 1
	}
	for i := range pr.calls {
		c := &pr.calls[i]
		if c.err == nil && c.proc != nil && c.proc.stream {
			c.streamTo = func(ctx context.Context, run subscriptionRun) *Error {
				return r.streamCall(ctx, i, c, run, newChunk, writeLine)
			}
		}
	}
	head := make(map[string]any, len(pr.calls))
	for i := range pr.calls {
		head[strconv.Itoa(i)] = []any{[]any{0}, []any{nil, 0, i}}
	}
	_ = writeLine(head)
	r.eachCall(ctx, auth, pr.calls, func(i int, res *result) {
		if res.streamed {
			return // streamCall wrote it
		}
		line := []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		if _, err := tr.serialize(line); err != nil {
			res.err = r.toError(res.path, err)
			res.data = nil
			line = []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		}
		_ = writeLine(line)
	})
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
