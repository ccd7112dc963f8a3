package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/trpc"
)

// TokenCookie is the cookie an EventSource (which cannot send headers) may carry the
// bearer token in.
const TokenCookie = "packshot_token"

// newRouter builds the tRPC router with every procedure: authentication from the
// Authorization header, or for WebSocket and SSE from connectionParams (`token`, or
// `authorization: "Bearer …"`) or the packshot_token cookie; errors mapped by mapError.
func newRouter(deps Deps) *trpc.Router {
	r := trpc.NewRouter(trpc.Config{
		Transformer:    trpc.Transformer(deps.Transformer),
		MaxBodyBytes:   deps.MaxBodyBytes,
		MaxUploadBytes: uploadBodyLimit(deps.MaxUploadBytes),
		AllowedOrigins: deps.AllowedOrigins,
		AuthFunc:       authFunc(deps.Verifier),
		MapErrorFunc:   mapError,
		Logger:         deps.Logger,
		Observer:       deps.TRPCObserver,

		MaxBatchConcurrency: deps.MaxBatchConcurrency,
		UploadGate:          func(*http.Request) (func(), error) { return deps.uploads.acquire() },
		UploadReadTimeout:   deps.UploadReadTimeout,
	})
	registerProjectProcedures(r, deps.Pack)
	registerImageProcedures(r, deps.Pack, deps.MaxUploadBytes, deps.lim)
	registerJobProcedures(r, deps.Pack, deps.lim)
	registerAdminProcedures(r, deps.Pack)
	return r
}

// uploadBodyLimit is the multipart body limit for an upload of at most max bytes: the
// file plus room for the form's other fields and boundaries, so a file just under the
// limit is not refused for its envelope. The file itself is checked exactly.
func uploadBodyLimit(max int64) int64 {
	if max <= 0 {
		max = 25 << 20
	}
	return max + 64<<10
}

// authFunc verifies the caller's token and puts the user in the context.
func authFunc(v *auth.Verifier) func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
	return func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
		u, err := verifyRequest(v, req.Header, req.ConnectionParams)
		if err != nil {
			return nil, err
		}
		return auth.WithUser(ctx, u), nil
	}
}

// verifyRequest finds and verifies the token of a request: the Authorization header, else
// connectionParams, else the token cookie.
func verifyRequest(v *auth.Verifier, h http.Header, params map[string]string) (auth.User, error) {
	if a := h.Get("Authorization"); a != "" {
		return v.VerifyHeader(a)
	}
	if t := params["token"]; t != "" {
		return v.Verify(t)
	}
	if a := params["authorization"]; a != "" {
		return v.VerifyHeader(a)
	}
	if a := params["Authorization"]; a != "" {
		return v.VerifyHeader(a)
	}
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name == TokenCookie && val != "" {
				return v.Verify(val)
			}
		}
	}
	return auth.User{}, apperr.Errorf(apperr.EUNAUTHORIZED, "missing bearer token")
}

// callerFrom returns the pack caller of an authenticated context.
func callerFrom(ctx context.Context) pack.Caller {
	u, _ := auth.UserFrom(ctx)
	return pack.Caller{UserID: u.ID, Admin: u.IsAdmin()}
}

// requireUser is REST's authentication middleware: it verifies the bearer token (or the
// token cookie) and stores the user in the request context; without a valid one the
// request gets a 401 problem.
func requireUser(v *auth.Verifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, err := verifyRequest(v, c.Request().Header, nil)
			if err != nil {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="packshot"`)
				return err
			}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	}
}

// mountTRPC serves the router on /trpc/* (HTTP and SSE) and /ws (wsLink).
func mountTRPC(e *echo.Echo, r *trpc.Router, origins []string) {
	h := trpc.CORS(origins, r.HTTPHandler())
	e.Any("/trpc/*", echo.WrapHandler(h))
	e.GET("/ws", echo.WrapHandler(r.WebSocketHandler()))
}
