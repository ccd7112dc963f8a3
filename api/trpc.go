package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
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
		Transformer:    transformer(deps.Transformer),
		MaxBodyBytes:   deps.MaxBodyBytes,
		MaxUploadBytes: uploadBodyLimit(deps.MaxUploadBytes),
		// Origins are checked in front of /ws by the same rule as CORS (mountTRPC).
		AllowedOrigins: []string{"*"},
		AuthFunc:       authFunc(deps.Verifier, deps.Tickets),
		MapErrorFunc:   mapError,
		Logger:         deps.Logger,
		Observer:       deps.TRPCObserver,

		AuthTimeout:                 deps.WSAuthTimeout,
		MaxConnsPerIP:               deps.MaxConnsPerIP,
		MaxConnsPerUser:             deps.MaxConnsPerUser,
		MaxCallsInFlight:            deps.WSMaxCallsInFlight,
		MaxSubscriptions:            deps.WSMaxSubscriptions,
		ClientIPFunc:                clientIPFunc(deps.TrustedProxies),
		SessionFunc:                 session,
		LimitRefusedFunc:            deps.TRPCLimitRefusedFunc,
		MaxConns:                    deps.MaxConns,
		IPv6PrefixBits:              deps.ConnsIPv6PrefixBits,
		SSEReconnectAfterInactivity: sseReconnectAfterInactivity(deps.SSEReconnectAfterInactivity),
		MaxBatchConcurrency:         deps.MaxBatchConcurrency,
		UploadGate:                  func(*http.Request) (func(), error) { return deps.uploads.acquire() },
		UploadReadTimeout:           deps.UploadReadTimeout,
		MaxInputDepth:               deps.TRPCMaxInputDepth,
	})
	registerProjectProcedures(r, deps.Pack)
	registerImageProcedures(r, deps.Pack, deps.MaxUploadBytes, deps.lim)
	registerJobProcedures(r, deps.Pack, deps.lim)
	registerAdminProcedures(r, deps.Pack)
	return r
}

// transformer is the router's transformer: superjson unless "json" is asked for.
func transformer(name string) trpc.Transformer {
	if name == "" {
		return trpc.TransformerSuperJSON
	}
	return trpc.Transformer(name)
}

// uploadBodyLimit is the multipart body limit for an upload of at most max bytes: the
// file plus room for the form's other fields and boundaries, so a file just under the
// limit is not refused for its envelope. The file itself is checked exactly.
func uploadBodyLimit(max int64) int64 {
	if max <= 0 {
		max = config.DefaultMaxUploadBytes
	}
	return max + 64<<10
}

// authFunc verifies the caller's token (or, for an SSE connect, a single-use ticket) and
// puts the user, and when the token expires, in the context.
func authFunc(v *auth.Verifier, tickets *auth.Tickets) func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
	return func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
		if t := req.ConnectionParams["ticket"]; t != "" && req.Transport == trpc.TransportSSE && tickets != nil {
			u, exp, err := tickets.Redeem(ctx, t)
			if err != nil {
				return nil, err
			}
			ctx = auth.WithUser(ctx, u)
			if !exp.IsZero() {
				// The stream ends when the ticket's token would have: a ticket does not
				// stretch a token's life.
				ctx = context.WithValue(ctx, expiryKey{}, exp)
			}
			return ctx, nil
		}
		token, err := requestToken(req.Header, req.ConnectionParams, req.Transport == trpc.TransportSSE)
		if err != nil {
			return nil, err
		}
		u, err := v.Verify(token)
		if err != nil {
			return nil, err
		}
		ctx = auth.WithUser(ctx, u)
		if exp, ok := tokenExpiry(token); ok {
			ctx = context.WithValue(ctx, expiryKey{}, exp)
		}
		return ctx, nil
	}
}

// verifyRequest finds and verifies the token of a request (see requestToken).
func verifyRequest(v *auth.Verifier, h http.Header, params map[string]string, cookieOK bool) (auth.User, error) {
	token, err := requestToken(h, params, cookieOK)
	if err != nil {
		return auth.User{}, err
	}
	return v.Verify(token)
}

// requestToken finds the token of a request: the Authorization header, else
// connectionParams (`token`, or `authorization: "Bearer …"`), else (only when cookieOK: an
// SSE connect, which is a GET) the token cookie.
func requestToken(h http.Header, params map[string]string, cookieOK bool) (string, error) {
	if a := h.Get("Authorization"); a != "" {
		return auth.BearerToken(a)
	}
	if t := params["token"]; t != "" {
		return t, nil
	}
	if a := params["authorization"]; a != "" {
		return auth.BearerToken(a)
	}
	if a := params["Authorization"]; a != "" {
		return auth.BearerToken(a)
	}
	if cookieOK {
		for _, line := range h.Values("Cookie") {
			for _, part := range strings.Split(line, ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
				if ok && name == TokenCookie && val != "" {
					return val, nil
				}
			}
		}
	}
	return "", apperr.Errorf(apperr.EUNAUTHORIZED, "missing bearer token")
}

// expiryKey is the context key for the time the caller's token expires.
type expiryKey struct{}

// tokenExpiry reads the `exp` claim of a token the verifier has accepted (so its payload
// is well-formed and signed); ok is false if it has none.
func tokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == nil {
		return time.Time{}, false
	}
	sec, frac := math.Modf(*c.Exp)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// session tells the tRPC router who an authenticated connection belongs to (for the
// per-user connection cap) and when its token stops being accepted: at `exp` plus the
// verifier's leeway, the moment the same token would be refused on a new connection, so
// a client reconnecting with it is not accepted only to be expired again.
func session(ctx context.Context) trpc.Session {
	u, ok := auth.UserFrom(ctx)
	if !ok {
		return trpc.Session{}
	}
	s := trpc.Session{User: u.ID}
	if exp, ok := ctx.Value(expiryKey{}).(time.Time); ok {
		s.Expires = exp.Add(auth.Leeway)
	}
	return s
}

// clientIPFunc returns the router's ClientIPFunc: nil (the TCP peer is the client) without
// trusted proxies; else, for a request from a trusted proxy, the right-most
// X-Forwarded-For address that is not itself a trusted proxy.
func clientIPFunc(trusted []netip.Prefix) func(*http.Request) string {
	if len(trusted) == 0 {
		return nil
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(req *http.Request) string {
		peer, err := netip.ParseAddrPort(req.RemoteAddr)
		if err != nil || !isTrusted(peer.Addr()) {
			return "" // the TCP peer
		}
		hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := forwardedAddr(hops[i])
			if !ok {
				// Not an address ("unknown", a hostname): what lies left of it cannot be
				// told from a forgery, so the proxy itself is counted.
				return ""
			}
			if !isTrusted(a) {
				return a.Unmap().String()
			}
		}
		return ""
	}
}

// forwardedAddr reads one X-Forwarded-For entry: an address, or as some proxies write it
// an address with a port (1.2.3.4:5678, [2001:db8::1]:5678) or a bracketed IPv6 address.
func forwardedAddr(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if a, err := netip.ParseAddr(hop); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr(), true
	}
	if strings.HasPrefix(hop, "[") && strings.HasSuffix(hop, "]") {
		if a, err := netip.ParseAddr(hop[1 : len(hop)-1]); err == nil && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// sseReconnectAfterInactivity maps the configured value to the router's: zero sends none.
func sseReconnectAfterInactivity(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
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
