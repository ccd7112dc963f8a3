package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/trpc"
)

// devTokenInput is the body of POST /api/dev/token.
type devTokenInput struct {
	User string `json:"user"`
	Role string `json:"role,omitempty"`
}

// handleDevToken is POST /api/dev/token {"user":"alice"} → {"token":"…"}: tokens for
// the web app in dev mode. The route exists only in dev mode, behind devTokenGuard.
func handleDevToken(issue func(user, role string) (string, error), maxBody int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in devTokenInput
		if err := decodeJSON(c, maxBody, &in); err != nil {
			return err
		}
		in.User = strings.TrimSpace(in.User)
		if in.User == "" || len(in.User) > 100 {
			return apperr.Invalid("Invalid input: user: must be 1 to 100 characters",
				map[string]string{"user": "must be 1 to 100 characters"})
		}
		if in.Role == "" {
			in.Role = "authenticated"
		}
		if in.Role != "authenticated" && in.Role != "service_role" {
			return apperr.Invalid("Invalid input: role: must be authenticated or service_role",
				map[string]string{"role": "must be authenticated or service_role"})
		}
		tok, err := issue(in.User, in.Role)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"token": tok})
	}
}

// devTokenGuard keeps dev mode's token endpoint, which hands anyone a service_role token,
// to the operator's own browser and tools. It answers only
//   - a peer on a loopback address (nobody on the network),
//   - addressed by a loopback Host (a page whose own name was rebound to 127.0.0.1, DNS
//     rebinding, still sends its name),
//   - with an application/json body (a cross-site form can only send text/plain,
//     urlencoded or multipart without a preflight, and the preflight is refused),
//   - and no Origin, or the server's own (a cross-site fetch names its page's origin).
//
// Each refusal is a 403 (415 for the content type) problem saying which check failed.
func devTokenGuard() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			switch {
			case !auth.LoopbackAddr(req.RemoteAddr):
				return apperr.Errorf(apperr.EFORBIDDEN, "dev tokens are issued only to this machine (loopback peer)")
			case !auth.LoopbackAddr(req.Host):
				return apperr.Errorf(apperr.EFORBIDDEN, "dev tokens are issued only for a loopback Host (localhost, 127.0.0.1, [::1])")
			case req.Header.Get("Origin") != "" && !trpc.SameOrigin(req):
				return apperr.Errorf(apperr.EFORBIDDEN, "dev tokens are not issued to another origin's page")
			case forwarded(req.Header):
				// A local tunnel or proxy (ngrok, ssh -R, cloudflared) connects from this
				// machine and may rewrite Host to localhost: the caller is elsewhere.
				return apperr.Errorf(apperr.EFORBIDDEN, "dev tokens are not issued through a proxy or tunnel (Forwarded / X-Forwarded-* header present)")
			}
			if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				return apperr.Errorf(apperr.EUNSUPPORTED, "send the request as application/json")
			}
			return next(c)
		}
	}
}

// limitSSETicketsPerUser names the cap on a user's outstanding tickets in the limit
// refusal metric (PACKSHOT_SSE_TICKETS_PER_USER).
const limitSSETicketsPerUser trpc.Limit = "sse_tickets_per_user"

// forwarded reports whether a request came through a proxy that says so.
func forwarded(h http.Header) bool {
	for _, name := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"} {
		if len(h.Values(name)) > 0 {
			return true
		}
	}
	return false
}

// sseTicket is the answer of POST /api/sse-ticket.
type sseTicket struct {
	// Ticket is the opaque single-use value to send as connectionParams {ticket}.
	Ticket string `json:"ticket"`
	// ExpiresAt is when the ticket stops being redeemable.
	ExpiresAt time.Time `json:"expiresAt"`
}

// handleSSETicket is POST /api/sse-ticket (Authorization: Bearer <token>, no body):
// a ticket that authenticates one SSE connect within its TTL (connectionParams
// {"ticket": "…"} of httpSubscriptionLink), so the token stays out of URLs. The
// Authorization header is required (requireUser never reads the cookie), so a cross-site
// page cannot mint tickets with a user's cookie.
func handleSSETicket(tickets *auth.Tickets, refused func(trpc.Limit)) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodPost {
			// An OPTIONS that is no CORS preflight (which the CORS middleware answers)
			// reaches here too: it gets no ticket.
			return c.NoContent(http.StatusNoContent)
		}
		u, _ := auth.UserFrom(c.Request().Context())
		// requireUser verified this header's token; its exp bounds the stream's life.
		tok, _ := auth.BearerToken(c.Request().Header.Get("Authorization"))
		tokExp, _ := tokenExpiry(tok)
		ticket, expires, err := tickets.Issue(c.Request().Context(), u, tokExp)
		if errors.Is(err, auth.ErrTooManyTickets) && refused != nil {
			refused(limitSSETicketsPerUser)
		}
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, sseTicket{Ticket: ticket, ExpiresAt: expires})
	}
}
