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
// bearer token in. It authenticates only an SSE connect (a GET that changes nothing):
// every other request needs the Authorization header, so a cross-site form or fetch that
// the browser sends with the cookie cannot act as the user.
const TokenCookie = "packshot_token"

// newRouter builds the tRPC router with every procedure: authentication from the
// Authorization header, or for WebSocket from connectionParams (`token`, or
// `authorization: "Bearer …"`), or for SSE from connectionParams (`ticket`, `token` or
// `authorization`) or the packshot_token cookie; errors mapped by mapError.
func newRouter(deps Deps) *trpc.Router {
	r := trpc.NewRouter(trpc.Config{
		Transformer:    trpc.Transformer(deps.Transformer),
		MaxBodyBytes:   deps.MaxBodyBytes,
		MaxUploadBytes: uploadBodyLimit(deps.MaxUploadBytes),
		// Origins are checked in front of /ws by the same rule as CORS (mountTRPC).
		AllowedOrigins: []string{"*"},
		AuthFunc:       authFunc(deps.Verifier, deps.Tickets),
		MapErrorFunc:   mapError,
		Logger:         deps.Logger,
		Observer:       deps.TRPCObserver,
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

// authFunc verifies the caller's token (or, for an SSE connect, ticket) and puts the user
// in the context.
func authFunc(v *auth.Verifier, tickets *auth.Tickets) func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
	return func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
		var u auth.User
		var err error
		if t := req.ConnectionParams["ticket"]; t != "" && req.Transport == trpc.TransportSSE && tickets != nil {
			u, err = tickets.Redeem(ctx, t)
		} else {
			u, err = verifyRequest(v, req.Header, req.ConnectionParams, req.Transport == trpc.TransportSSE)
		}
		if err != nil {
			return nil, err
		}
		return auth.WithUser(ctx, u), nil
	}
}

// verifyRequest finds and verifies the token of a request: the Authorization header, else
// connectionParams, else (only when cookieOK: an SSE connect) the token cookie.
func verifyRequest(v *auth.Verifier, h http.Header, params map[string]string, cookieOK bool) (auth.User, error) {
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
	if cookieOK {
		for _, line := range h.Values("Cookie") {
			for _, part := range strings.Split(line, ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
				if ok && name == TokenCookie && val != "" {
					return v.Verify(val)
				}
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

// requireUser is REST's authentication middleware: it verifies the bearer token of the
// Authorization header (never a cookie) and stores the user in the request context;
// without a valid one the request gets a 401 problem.
func requireUser(v *auth.Verifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, err := verifyRequest(v, c.Request().Header, nil, false)
			if err != nil {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="packshot"`)
				return err
			}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	}
}

// mountTRPC serves the router on /trpc/* (HTTP and SSE) and /ws (wsLink). One rule
// (trpc.Origins) decides which browser origins may call both.
func mountTRPC(e *echo.Echo, r *trpc.Router, origins trpc.Origins) {
	h := trpc.CORS(origins, r.HTTPHandler())
	e.Any("/trpc/*", echo.WrapHandler(h))
	ws := r.WebSocketHandler()
	e.GET("/ws", echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !origins.Allowed(req) {
			http.Error(w, "WebSocket from this origin not allowed (PACKSHOT_ALLOWED_ORIGINS)", http.StatusForbidden)
			return
		}
		ws.ServeHTTP(w, req)
	})))
}
