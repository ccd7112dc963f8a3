// Package api is packshot's HTTP surface: the Echo server, its middleware, the tRPC
// procedures mounted on /trpc and /ws, the REST routes under /api, signed files, health and
// metrics, and the embedded web app. It holds no business logic: handlers validate, call
// internal packages, and map errors to the protocol's shape in one place.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/telemetry"
	"github.com/packshot/packshot/internal/trpc"
)

// Deps is everything the HTTP server needs. NewServer takes it whole so that tests can
// build a server from real parts without the command-line wiring.
type Deps struct {
	// Logger receives request and error logs. Required.
	Logger *slog.Logger
	// Store is the database. Required.
	Store db.Store
	// ReadyFunc reports whether the instance can serve traffic (database reachable,
	// migrations current, LISTEN connection up). Required.
	ReadyFunc func(ctx context.Context) error
	// Metrics is the Prometheus registry served on /metrics. Required.
	Metrics *telemetry.Metrics

	// Pack is the domain service behind the tRPC procedures and the REST routes. Nil
	// serves only health and metrics (tests of other layers).
	Pack *pack.Service
	// Verifier checks bearer tokens. Required with Pack.
	Verifier *auth.Verifier
	// PackLinks signs and checks pack.zip links; it must be the one whose URL method
	// is the pack service's PackURLFunc. Required with Pack.
	PackLinks *PackLinks
	// Realtime is the instance's realtime broker: it serves the tRPC subscriptions and
	// wakes REST long-polls on changes made by any instance. Nil: no subscriptions, and
	// long-polls wake only on changes made through this instance.
	Realtime *realtime.Broker
	// Files serves /files/<key>?exp=&sig= (internal/storage's signed-URL handler). Nil:
	// no /files route.
	Files http.Handler
	// DevTokenFunc issues a token for a user and role; set only in dev mode, where it
	// enables POST /api/dev/token.
	DevTokenFunc func(user, role string) (string, error)
	// Transformer is the tRPC transformer, "superjson" (the default, as T3-stack
	// clients use) or "json".
	Transformer string
	// AllowedOrigins are the browser origins allowed cross-origin and on /ws.
	AllowedOrigins []string
	// MaxBodyBytes caps a JSON request body. Defaults to 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes caps an uploaded photo. Defaults to config.DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// TRPCObserver, if set, is told about WebSocket/SSE connections and finished calls
	// (metrics).
	TRPCObserver trpc.Observer
	// EnqueuePerMinute caps the enqueueing calls (image.generate, image.generateCompletePack,
	// job.retry, POST /api/projects/:id/pack) one user may make per minute on this instance;
	// 0 disables. Over it: TOO_MANY_REQUESTS with Retry-After.
	EnqueuePerMinute int
	// MaxPacksInFlight caps the packs one user may have generating at once, across all
	// instances; 0 disables.
	MaxPacksInFlight int

	// --- WebSocket and SSE connection limits (see trpc.Config; 0 disables a cap) ---

	// WSAuthTimeout bounds the wait for a WebSocket's connectionParams, and the time a
	// socket whose token expired stays open for its client to reconnect. Defaults to 10 s.
	WSAuthTimeout time.Duration
	// MaxConnsPerIP and MaxConnsPerUser cap the WebSocket and SSE connections open at once
	// per client address and per user.
	MaxConnsPerIP, MaxConnsPerUser int
	// WSMaxCallsInFlight and WSMaxSubscriptions cap the queries and mutations running and
	// the subscriptions open on one WebSocket.
	WSMaxCallsInFlight, WSMaxSubscriptions int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// address; empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// SSEReconnectAfterInactivity is sent to SSE clients as reconnectAfterInactivityMs;
	// zero sends none.
	SSEReconnectAfterInactivity time.Duration
	// TRPCLimitRefusedFunc, if set, counts the refusals by those limits (metrics).
	TRPCLimitRefusedFunc func(trpc.Limit)
	// TRPCMaxInputDepth caps the nesting of a superjson input with
	// referentialEqualities. Defaults to 100.
	TRPCMaxInputDepth int

	// MaxConns caps the WebSocket and SSE connections open at once on this instance
	// (zero: no cap); ConnsIPv6PrefixBits is the IPv6 prefix counted as one client
	// address (zero: 64).
	MaxConns, ConnsIPv6PrefixBits int

	// --- tokens, SSE tickets and the metrics address ---

	// Tickets issues the single-use SSE tickets (POST /api/sse-ticket) and redeems them
	// on an SSE connect. Nil: no ticket route, SSE authenticates with a token only.
	Tickets *auth.Tickets
	// NoPublicMetrics leaves /metrics off this server, because it is served on its own
	// address (PACKSHOT_METRICS_ADDR).
	NoPublicMetrics bool

	// --- reading requests and uploads; HTTP batches ---

	// MaxUploadsInFlight caps the uploads (tRPC and REST) this process reads and
	// processes at once; 0 disables. Over it: 503 SERVICE_UNAVAILABLE with Retry-After.
	MaxUploadsInFlight int
	// UploadReadTimeout, if set, bounds reading one upload body.
	UploadReadTimeout time.Duration
	// MaxBatchConcurrency is how many calls of one tRPC HTTP batch run at once; 0 means
	// the router's default.
	MaxBatchConcurrency int

	// lim enforces the two limits above; set by addRoutes.
	lim *limits
	// uploads is the process's cap on uploads in flight; set by addRoutes.
	uploads *uploadGate
}

// NewOpsServer returns the operations endpoints alone (/healthz, /readyz, /metrics), for
// processes without the API (`packshot worker -ops-addr`).
func NewOpsServer(logger *slog.Logger, ready func(ctx context.Context) error, metrics *telemetry.Metrics) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = problemErrorHandler(logger)
	e.Use(metricsMiddleware(metrics))
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(logger, ready))
	e.GET("/metrics", echo.WrapHandler(metrics.Handler()))
	return e
}

// Server is packshot's HTTP API: an http.Handler with every route of routes.go.
type Server struct {
	http.Handler
	router *trpc.Router // nil without the pack routes
}

// NewServer returns packshot's HTTP API.
func NewServer(deps Deps) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = problemErrorHandler(deps.Logger)
	e.Use(metricsMiddleware(deps.Metrics))
	return &Server{Handler: e, router: addRoutes(e, deps)}
}

// Shutdown tells the server's WebSocket clients to reconnect and ends its SSE streams
// (trpc.Router.Shutdown), waiting until they have gone or ctx ends. Call it beside
// http.Server.Shutdown, which does not wait for hijacked connections.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.router == nil {
		return nil
	}
	return s.router.Shutdown(ctx)
}
