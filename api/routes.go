package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/trpc"
	"github.com/packshot/packshot/web"
)

// addRoutes is the one place every route is registered. It returns the tRPC router, or
// nil when deps has no pack service (and so no pack routes).
func addRoutes(e *echo.Echo, deps Deps) *trpc.Router {
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(deps.Logger, deps.ReadyFunc))
	if !deps.NoPublicMetrics {
		e.GET("/metrics", echo.WrapHandler(deps.Metrics.Handler()))
	}
	if deps.Files != nil {
		e.GET("/files/*", echo.WrapHandler(deps.Files))
		e.HEAD("/files/*", echo.WrapHandler(deps.Files))
	}
	e.Match([]string{"GET", "HEAD"}, "/*", echo.WrapHandler(web.Handler())) // the web app; every other route wins
	if deps.Pack == nil {
		return nil
	}
	deps = withDefaults(deps)
	deps.lim = newLimits(deps.Store, deps.EnqueuePerMinute, deps.MaxPacksInFlight)
	deps.uploads = newUploadGate(deps.MaxUploadsInFlight, deps.Metrics)

	// tRPC on /trpc/* (HTTP, batch, JSONL, SSE) and /ws (wsLink).
	r := newRouter(deps)
	// realtime: subscriptions registered by registerSubscriptions
	if deps.Realtime != nil {
		registerSubscriptions(r, deps.Realtime)
		registerJobWatch(r, deps.Pack, deps.Realtime)
	}
	origins := trpc.NewOrigins(deps.AllowedOrigins)
	mountTRPC(e, r, origins)

	// REST for clients that poll; errors are problem JSON.
	authn := requireUser(deps.Verifier)
	wait := longPoll(deps.Pack, deps.Realtime)
	api := e.Group("/api")
	api.POST("/projects", handleProjectCreate(deps.Pack, deps.MaxBodyBytes), authn)
	api.GET("/projects/:id", handleProjectGet(deps.Pack, wait), authn)
	api.POST("/projects/:id/source", handleProjectSource(deps.Pack, deps.MaxUploadBytes, deps.uploads, deps.UploadReadTimeout), authn)
	api.POST("/projects/:id/pack", handleProjectPack(deps.Pack, deps.lim), authn)
	api.GET("/projects/:id/pack.zip", handlePackZip(deps.Pack), packZipAuth(deps.Verifier, deps.PackLinks))
	if deps.Tickets != nil {
		// Cross-origin apps allowed on /trpc ask for tickets too: the same CORS rule.
		cors := echo.WrapMiddleware(func(h http.Handler) http.Handler { return trpc.CORS(origins, h) })
		api.Match([]string{http.MethodPost, http.MethodOptions}, "/sse-ticket", handleSSETicket(deps.Tickets, deps.TRPCLimitRefusedFunc), cors, authn)
	}
	if deps.DevTokenFunc != nil {
		api.POST("/dev/token", handleDevToken(deps.DevTokenFunc, deps.MaxBodyBytes), devTokenGuard())
	}
	return r
}

// withDefaults fills the limits Deps leaves zero.
func withDefaults(d Deps) Deps {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.MaxUploadBytes <= 0 {
		d.MaxUploadBytes = config.DefaultMaxUploadBytes
	}
	return d
}
