package trpc

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
)

// Stream registers a streaming query at path: a query whose output is an
// async iterable, as a tRPC resolver that is an async generator. fn calls
// yield once per value and returns when it is done: nil ends the iterable
// (the client's for-await loop finishes, or a subscription completes), an
// error ends it with that error. fn must return once ctx is cancelled (the
// client went away or stopped, or the server is draining); yield fails
// then, and blocks while the client's connection is backed up.
//
// Over httpBatchStreamLink (JSONL) the call answers an async iterable:
// `for await (const v of await client.path.query(in))`. Over wsLink and
// httpSubscriptionLink the same procedure is a subscription with untracked
// events (`client.path.subscribe(in, {onData})`), counted against the
// socket's MaxSubscriptions; called as a query over wsLink it fails with
// UNSUPPORTED_MEDIA_TYPE, as in the reference. Over plain HTTP (httpLink, httpBatchLink), as
// the reference server answers a query returning an iterable, the call
// fails with UNSUPPORTED_MEDIA_TYPE once its input is valid.
// It panics if the path is invalid or taken.
func Stream[In, Out any](r *Router, path string, fn func(ctx context.Context, in In, yield func(Out) error) error, opts ...ProcOption) {
	r.add(&procedure{
		// A subscription to the WebSocket and SSE transports, which serve it
		// unchanged; the HTTP handler tells it apart by stream.
		path: path, kind: kindSubscription, stream: true, untracked: true,
		inType: reflect.TypeFor[In](), outType: reflect.TypeFor[Out](),
		call: func(_ context.Context, raw input) (any, error) {
			if _, err := decodeInput[In](raw); err != nil {
				return nil, err
			}
			return nil, Errorf(CodeUnsupportedMediaType, "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink")
		},
		subscribe: func(raw input) (subscriptionRun, error) {
			in, err := decodeInput[In](raw)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, _ string, send func(string, any) error) error {
				return fn(ctx, in, func(v Out) error { return send("", v) })
			}, nil
		},
	}, opts)
}

// errStreamQueryOverWS answers a streaming query called as a query over wsLink, as the
// reference answers a query that returns an iterable there; subscribing works.
var errStreamQueryOverWS = Errorf(CodeUnsupportedMediaType, "Cannot return an async iterable from a query procedure with WebSockets: subscribe to it")

// httpKind is the type a procedure has over plain HTTP and JSONL: a
// streaming query is a query there.
func (p *procedure) httpKind() procKind {
	if p.stream {
		return kindQuery
	}
	return p.kind
}

// servesSSE reports whether an unbatched HTTP call of p is an
// httpSubscriptionLink stream: every subscription, and a streaming query
// when the client asked for an event stream (EventSource always does; an
// httpLink query does not).
func (p *procedure) servesSSE(h http.Header) bool {
	if p.stream {
		return strings.Contains(h.Get("Accept"), "text/event-stream")
	}
	return p.kind == kindSubscription
}

// streamCall runs a streaming query's call of a JSONL response: it writes
// the call's result as an async iterable, in chunks after the head's
// promise i:
//
//	[i,0,[[{"result":0}],["result",0,r]]]
//	[r,0,[[{"data":0}],["data",1,d]]]
//	[d,1,[[value]]]          one per yielded value
//	[d,0,[[]]]               return, or [d,2,{error shape}] on failure
//
// It returns the error the iterable ended with, if any.
func (r *Router) streamCall(ctx context.Context, i int, c *call, run subscriptionRun, newChunk func() int, writeLine func(any) error) *Error {
	resID, dataID := newChunk(), newChunk()
	if err := writeLine([]any{i, 0, []any{[]any{map[string]any{"result": 0}}, []any{"result", 0, resID}}}); err != nil {
		return r.toError(c.path, err)
	}
	if err := writeLine([]any{resID, 0, []any{[]any{map[string]any{"data": 0}}, []any{"data", 1, dataID}}}); err != nil {
		return r.toError(c.path, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	send := func(_ string, v any) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := writeLine([]any{dataID, 1, []any{[]any{v}}})
		var we *jsonlWriteError
		if errors.As(err, &we) {
			cancel() // the client is gone: the generator stops
		}
		return err
	}
	err := r.safeSubscribe(ctx, c.proc, run, "", send)
	if err == nil && ctx.Err() == nil {
		_ = writeLine([]any{dataID, 0, []any{[]any{}}})
		return nil
	}
	var te *Error
	switch {
	case ctx.Err() == nil:
		te = r.toError(c.path, err)
	case r.isClosing():
		// Not a return: the client's loop fails and it can ask again.
		te = Errorf(CodeServiceUnavailable, "Server is shutting down: retry")
	default:
		te = Errorf(CodeClientClosedRequest, "Client closed the stream")
	}
	_ = writeLine([]any{dataID, 2, te.shape(c.path)})
	return te
}

// jsonlWriteError is a JSONL line that could not be written: the client
// went away.
type jsonlWriteError struct{ err error }

func (e *jsonlWriteError) Error() string { return "write jsonl line: " + e.err.Error() }
func (e *jsonlWriteError) Unwrap() error { return e.err }

func (r *Router) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}
