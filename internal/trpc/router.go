package trpc

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Config configures a Router. The zero value is usable.
type Config struct {
	// Transformer is TransformerJSON (the default) or TransformerSuperJSON.
	Transformer Transformer
	// MaxBodyBytes limits a JSON request body and a WebSocket message.
	// Larger requests get PAYLOAD_TOO_LARGE. Defaults to 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes limits a multipart/form-data or
	// application/octet-stream body. Defaults to 32 MiB.
	MaxUploadBytes int64
	// MaxBatchSize limits the calls in one HTTP batch or WebSocket array
	// frame. Defaults to 100.
	MaxBatchSize int
	// MaxInputDepth caps how deep a superjson input with
	// referentialEqualities may nest, before and after they are restored
	// (LimitInputExpansion, which bounds the bytes they add, needs no
	// setting). Defaults to 100.
	MaxInputDepth int
	// AllowMethodOverride accepts POST for queries and subscriptions (the
	// client's methodOverride: 'POST'). Mutations are never accepted as GET.
	AllowMethodOverride bool
	// AllowedOrigins lists the Origin host patterns (path.Match syntax, such
	// as "app.example.com" or "*.example.com") that may open a WebSocket
	// besides the server's own host. "*" allows every origin. Requests
	// without an Origin header (non-browser clients) are always allowed.
	AllowedOrigins []string
	// AuthFunc authenticates a request from its HTTP headers and, for
	// WebSocket and SSE, the client's connectionParams. It returns the
	// context procedures run with (for example carrying the user), or an
	// error: procedures that require auth then fail with that error if it
	// is an *Error, else UNAUTHORIZED. It runs at most once per HTTP
	// request or WebSocket connection. Nil means every call is anonymous
	// and allowed.
	AuthFunc func(ctx context.Context, req AuthRequest) (context.Context, error)
	// MapErrorFunc maps an error a procedure returned to the *Error the
	// client sees; returning nil falls through to INTERNAL_SERVER_ERROR with
	// a generic message. An *Error anywhere in the chain is used as is.
	MapErrorFunc func(error) *Error
	// Logger receives errors that are hidden from the client. Nil logs
	// nothing.
	Logger *slog.Logger
	// Observer, if set, is told about connections and finished calls.
	Observer Observer
	// SSEPingInterval is how often an idle SSE stream gets a ping event.
	// Defaults to 10 s.
	SSEPingInterval time.Duration
	// SSERetry, if set, is sent as the SSE retry field: how long
	// EventSource waits before it reconnects. Zero leaves the browser's
	// default (about 3 s).
	SSERetry time.Duration
	// SSEMaxDuration, if set, ends each SSE stream after this long without
	// a return event, so the client reconnects and resumes. Zero means no
	// limit.
	SSEMaxDuration time.Duration
	// WriteTimeout bounds one WebSocket write; a client that does not read
	// for this long is disconnected. Defaults to 10 s.
	WriteTimeout time.Duration

	// --- Connection limits (WebSocket and SSE; see limits.go). A refusal is a
	// tRPC error whose message names the Limit. ---

	// AuthTimeout is how long a WebSocket opened with connectionParams=1 may
	// take to send its connectionParams message before it is closed, and how
	// long a socket whose credentials expired stays open for its client to
	// reconnect (longer while a call running on it has not answered).
	// Defaults to 10 s.
	AuthTimeout time.Duration
	// MaxConnsPerIP caps the WebSocket and SSE connections (and JSONL
	// responses that stream, see Stream) open at once from one client address
	// (ClientIPFunc). Zero means no limit.
	MaxConnsPerIP int
	// MaxConnsPerUser caps the WebSocket and SSE connections (and JSONL
	// responses that stream) open at once for one user (SessionFunc's User).
	// Zero means no limit.
	MaxConnsPerUser int
	// MaxCallsInFlight caps the queries and mutations one WebSocket runs at
	// once; more are refused with TOO_MANY_REQUESTS. Zero means no limit.
	MaxCallsInFlight int
	// MaxSubscriptions caps the subscriptions open on one WebSocket; more are
	// refused with TOO_MANY_REQUESTS. Zero means no limit.
	MaxSubscriptions int
	// ClientIPFunc returns the client address of a request for MaxConnsPerIP.
	// Nil (or an empty answer) uses the TCP peer's address.
	ClientIPFunc func(req *http.Request) string
	// SessionFunc returns the session of a context AuthFunc returned: the
	// user MaxConnsPerUser counts and when the credentials expire. Nil counts
	// no users and never expires a connection.
	SessionFunc func(authCtx context.Context) Session
	// LimitRefusedFunc, if set, is told of every refusal by one of the limits
	// above or of the superjson input limits (LimitInputExpansion,
	// LimitInputDepth), for metrics.
	LimitRefusedFunc func(limit Limit)
	// SSEReconnectAfterInactivity is sent in the SSE connected event as
	// reconnectAfterInactivityMs: a client that hears nothing (not even a
	// ping) for this long reconnects and resumes. Zero means three
	// SSEPingIntervals; negative sends none.
	SSEReconnectAfterInactivity time.Duration
	// MaxConns caps the WebSocket and SSE connections open at once on this
	// router, whoever opens them (file descriptors and memory); more are
	// refused with SERVICE_UNAVAILABLE. Zero means no limit.
	MaxConns int
	// IPv6PrefixBits is the prefix length under which IPv6 client addresses
	// count as one address for MaxConnsPerIP: a host is typically given a
	// whole /64, so counting each address would be no cap. Zero means 64;
	// 128 counts each address.
	IPv6PrefixBits int

	// --- HTTP batches and request bodies (hardening: batch concurrency, uploads) ---

	// MaxBatchConcurrency bounds how many calls of one HTTP batch (JSON or
	// JSONL) run at once; the others wait their turn. Defaults to 4.
	MaxBatchConcurrency int
	// UploadGate, if set, admits a multipart/form-data or
	// application/octet-stream body before it is read, and only after the
	// caller is authenticated: release is called once the call finished.
	// An error refuses the upload (an *Error as is, else through
	// MapErrorFunc), for example because too many uploads are in flight.
	UploadGate func(req *http.Request) (release func(), err error)
	// UploadReadTimeout, if set, is the read deadline of an upload body
	// from the moment the handler starts reading it (it replaces the
	// server's ReadTimeout for that request, so a large photo on a slow
	// link is not cut off while a stalled sender still is).
	UploadReadTimeout time.Duration
	// UploadSpoolDir is where upload bodies larger than UploadMemoryBytes
	// are written while they arrive. Empty means the system temp dir.
	UploadSpoolDir string
	// UploadMemoryBytes is how much of an upload body is kept in memory
	// before the rest goes to a temporary file. Defaults to 1 MiB.
	UploadMemoryBytes int64
}

// AuthRequest is what an AuthFunc sees.
type AuthRequest struct {
	// Header holds the HTTP request's headers (for WebSocket, those of the
	// upgrade request).
	Header http.Header
	// ConnectionParams holds the client's connectionParams (wsLink's first
	// message, httpSubscriptionLink's connectionParams query parameter);
	// nil over plain HTTP or when the client sent none.
	ConnectionParams map[string]string
	// Transport is TransportHTTP, TransportSSE or TransportWebSocket.
	Transport Transport
}

// Transport names how a call arrived.
type Transport string

// The transports.
const (
	TransportHTTP      Transport = "http"
	TransportSSE       Transport = "sse"
	TransportWebSocket Transport = "ws"
)

// Observer receives events for metrics. Its methods must be fast and safe for
// concurrent use.
type Observer interface {
	// ConnOpened is called when a WebSocket or SSE stream opens.
	ConnOpened(t Transport)
	// ConnClosed is called when it closes.
	ConnClosed(t Transport)
	// CallDone is called when a query or mutation finished, or a
	// subscription ended; code is empty on success.
	CallDone(path string, t Transport, code Code, d time.Duration)
}

// Router holds procedures and serves them over HTTP, SSE and WebSocket. Its
// methods are safe for concurrent use once registration is done; register
// every procedure before serving.
type Router struct {
	cfg   Config
	procs map[string]*procedure

	mu       sync.Mutex
	closing  bool
	wsConns  map[*wsConn]struct{}
	streams  map[*sseStream]struct{}
	streamWG sync.WaitGroup
	conns    connCounter
	// expiryAfterFunc arms a WebSocket's credential expiry (time.AfterFunc when
	// nil); tests replace it to make a token expire on cue.
	expiryAfterFunc func(d time.Duration, f func()) (stop func() bool)
	// graceAfterFunc arms the AuthTimeout an expired WebSocket gets before it is
	// closed (time.AfterFunc when nil); tests replace it to end the grace on cue.
	graceAfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// NewRouter returns a Router with cfg, its defaults filled in.
func NewRouter(cfg Config) *Router {
	if cfg.Transformer == "" {
		cfg.Transformer = TransformerJSON
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 32 << 20
	}
	if cfg.MaxBatchSize <= 0 {
		cfg.MaxBatchSize = 100
	}
	if cfg.SSEPingInterval <= 0 {
		cfg.SSEPingInterval = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxBatchConcurrency <= 0 {
		cfg.MaxBatchConcurrency = 4
	}
	if cfg.UploadMemoryBytes <= 0 {
		cfg.UploadMemoryBytes = 1 << 20
	}
	return &Router{
		cfg:     cfg,
		procs:   map[string]*procedure{},
		wsConns: map[*wsConn]struct{}{},
		streams: map[*sseStream]struct{}{},
	}
}

// Transformer returns the transformer the router speaks.
func (r *Router) Transformer() Transformer { return r.cfg.Transformer }

type procKind string

const (
	kindQuery        procKind = "query"
	kindMutation     procKind = "mutation"
	kindSubscription procKind = "subscription"
)

// procedure is one registered procedure with its types erased.
type procedure struct {
	path      string
	kind      procKind
	public    bool
	untracked bool
	// stream marks a streaming query (Stream): kind is kindSubscription, so
	// WebSocket and SSE serve it as one, and HTTP calls it a query.
	stream  bool
	inType  reflect.Type
	outType reflect.Type
	// call runs a query or mutation.
	call func(ctx context.Context, in input) (any, error)
	// subscribe decodes a subscription's input, or fails as a call with a bad
	// input does, before the client is told the subscription started.
	subscribe func(in input) (subscriptionRun, error)
}

// ProcOption changes how a procedure is registered.
type ProcOption func(*procedure)

// Public lets a procedure run without authentication: it runs with the
// AuthFunc's context when that succeeded and with the plain request context
// otherwise.
func Public() ProcOption { return func(p *procedure) { p.public = true } }

// Untracked declares that a subscription sends events without IDs, so the
// client's onData receives the data itself rather than {id, data}. It only
// changes the TypeScript type WriteTypeScript emits; on the wire an event is
// tracked exactly when its ID is non-empty.
func Untracked() ProcOption { return func(p *procedure) { p.untracked = true } }

// Event is one event of a subscription. A non-empty ID makes it a tracked
// event: the client remembers the ID and sends it back as lastEventId when
// it resubscribes, so the subscription can resume after it.
type Event[T any] struct {
	ID   string
	Data T
}

// Void is the input or output type of a procedure that takes or returns
// nothing (TypeScript void).
type Void struct{}

var pathPattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

func (r *Router) add(p *procedure, opts []ProcOption) {
	if !pathPattern.MatchString(p.path) {
		panic("trpc: invalid procedure path " + p.path)
	}
	if _, dup := r.procs[p.path]; dup {
		panic("trpc: duplicate procedure " + p.path)
	}
	for _, o := range opts {
		o(p)
	}
	r.procs[p.path] = p
}

// Query registers a query procedure at path (dotted, such as
// "project.get"). It panics if the path is invalid or already taken.
func Query[In, Out any](r *Router, path string, fn func(ctx context.Context, in In) (Out, error), opts ...ProcOption) {
	r.add(unary(kindQuery, path, fn), opts)
}

// Mutation registers a mutation procedure at path. Its input may be
// FormData or Blob for uploads. It panics if the path is invalid or taken.
func Mutation[In, Out any](r *Router, path string, fn func(ctx context.Context, in In) (Out, error), opts ...ProcOption) {
	r.add(unary(kindMutation, path, fn), opts)
}

func unary[In, Out any](kind procKind, path string, fn func(context.Context, In) (Out, error)) *procedure {
	return &procedure{
		path: path, kind: kind,
		inType: reflect.TypeFor[In](), outType: reflect.TypeFor[Out](),
		call: func(ctx context.Context, raw input) (any, error) {
			in, err := decodeInput[In](raw)
			if err != nil {
				return nil, err
			}
			out, err := fn(ctx, in)
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
}

// Subscription registers a subscription procedure at path. fn sends events
// with send until it returns: nil means the subscription completed (the
// client is told and does not resubscribe); it must return when ctx is
// cancelled (the client went away, stopped the subscription, or the server
// is shutting down). lastEventID is the ID of the last event the client
// saw ("" on a first subscribe), so fn can resume after it. send blocks
// while the client's connection is backed up and fails once ctx is done;
// it may be called from several goroutines. Events should carry IDs; a
// subscription whose events have none is registered with Untracked.
// It panics if the path is invalid or taken.
func Subscription[In, Out any](r *Router, path string, fn func(ctx context.Context, in In, lastEventID string, send func(Event[Out]) error) error, opts ...ProcOption) {
	r.add(&procedure{
		path: path, kind: kindSubscription,
		inType: reflect.TypeFor[In](), outType: reflect.TypeFor[Out](),
		subscribe: func(raw input) (subscriptionRun, error) {
			in, err := decodeInput[In](raw)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, lastEventID string, send func(string, any) error) error {
				return fn(ctx, in, lastEventID, func(e Event[Out]) error { return send(e.ID, e.Data) })
			}, nil
		},
	}, opts)
}

// subscriptionRun runs a subscription whose input is decoded; send delivers
// one event.
type subscriptionRun func(ctx context.Context, lastEventID string, send func(id string, data any) error) error

// paths returns the registered paths, sorted.
func (r *Router) paths() []string {
	out := make([]string, 0, len(r.procs))
	for p := range r.procs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// authState runs the AuthFunc at most once for one request or connection.
type authState struct {
	once sync.Once
	req  AuthRequest
	ctx  context.Context
	err  error
}

// contextFor returns the context a procedure runs with, or the error that
// refuses it.
func (r *Router) contextFor(ctx context.Context, a *authState, p *procedure) (context.Context, *Error) {
	if r.cfg.AuthFunc == nil {
		return ctx, nil
	}
	a.once.Do(func() {
		// Detached: on a WebSocket the first call's context ends with that
		// call, but the result serves every later call of the connection.
		a.ctx, a.err = r.cfg.AuthFunc(context.WithoutCancel(ctx), a.req)
	})
	if a.err == nil && a.ctx != nil {
		return authedContext{Context: ctx, auth: a.ctx}, nil
	}
	if p.public {
		return ctx, nil
	}
	if te, ok := a.err.(*Error); ok {
		return nil, te
	}
	if a.err != nil && r.cfg.MapErrorFunc != nil {
		if te := r.cfg.MapErrorFunc(a.err); te != nil && te.Code == CodeUnauthorized {
			return nil, te
		}
	}
	return nil, &Error{Code: CodeUnauthorized, Message: "Unauthorized", Err: a.err}
}

// authedContext is a call's context (its cancellation and deadline) that
// also carries the values AuthFunc added, such as the user.
type authedContext struct {
	context.Context
	auth context.Context
}

// Value looks in the authenticated context first, then in the call's.
func (c authedContext) Value(key any) any {
	if v := c.auth.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// UnknownProcedure is the path an Observer is told for a call to a
// procedure that is not registered. Observers turn paths into metric
// labels, so they only ever see the router's own names: the path a caller
// typed may be invalid UTF-8 (which makes a Prometheus label panic) or a
// new random name on every request (one new series each, forever).
const UnknownProcedure = "(unknown)"

func (r *Router) observeCall(path string, t Transport, e *Error, start time.Time) {
	if r.cfg.Observer == nil {
		return
	}
	if _, ok := r.procs[path]; !ok {
		path = UnknownProcedure
	}
	var code Code
	if e != nil {
		code = e.code()
	}
	r.cfg.Observer.CallDone(path, t, code, time.Since(start))
}
