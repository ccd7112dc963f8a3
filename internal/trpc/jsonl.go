package trpc

import (
	"net/http"
	"strconv"
	"sync"
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
func (r *Router) serveJSONL(w http.ResponseWriter, req *http.Request, pr *request, auth *authState) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	tr := r.streamTransformer(pr)
	var mu sync.Mutex
	writeLine := func(v any) {
		b, err := tr.serialize(v)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(append(b, '\n'))
		if flusher != nil {
			flusher.Flush()
		}
	}
	head := make(map[string]any, len(pr.calls))
	for i := range pr.calls {
		head[strconv.Itoa(i)] = []any{[]any{0}, []any{nil, 0, i}}
	}
	writeLine(head)
	r.eachCall(req.Context(), auth, pr.calls, func(i int, res *result) {
		line := []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		if _, err := tr.serialize(line); err != nil {
			res.err = r.toError(res.path, err)
			res.data = nil
			line = []any{i, 0, []any{[]any{r.envelopeValue(res)}}}
		}
		writeLine(line)
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
