package api

import (
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/storage"
)

// PackLinks signs and checks pack.zip download links, so a snapshot's packUrl works in a
// plain <a href> without an Authorization header. A link names one project and expires.
// It signs with the file links' signer under the name "pack/<project id>".
type PackLinks struct {
	signer *storage.Signer
	ttl    time.Duration
}

// NewPackLinks returns PackLinks whose links are valid for ttl (default 1 h).
func NewPackLinks(signer *storage.Signer, ttl time.Duration) *PackLinks {
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &PackLinks{signer: signer, ttl: ttl}
}

// URL returns the signed absolute path of a project's pack.zip, expiring at
// pack.LinkExpiry.
func (l *PackLinks) URL(projectID uuid.UUID) string {
	exp := pack.LinkExpiry(time.Now(), l.ttl)
	return "/api/projects/" + projectID.String() + "/pack.zip?" + l.signer.Query("pack/"+projectID.String(), exp)
}

// packZipAuth lets GET pack.zip through with a valid link signature (as the operator, so
// the project is found whoever owns it); otherwise it requires a bearer token.
func packZipAuth(v *auth.Verifier, l *PackLinks) echo.MiddlewareFunc {
	bearer := requireUser(v)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withToken := bearer(next)
		return func(c echo.Context) error {
			q := c.QueryParams()
			if q.Get("sig") == "" || c.Request().Header.Get("Authorization") != "" {
				return withToken(c)
			}
			if err := l.signer.Verify("pack/"+c.Param("id"), q.Get("exp"), q.Get("sig"), time.Now()); err != nil {
				return &apperr.Error{Code: apperr.EUNAUTHORIZED,
					Message: "the download link is invalid or has expired: reload the project for a fresh one", Err: err}
			}
			ctx := auth.WithUser(c.Request().Context(), auth.User{ID: "pack-link", Role: auth.RoleService})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
