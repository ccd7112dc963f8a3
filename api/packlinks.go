package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
)

// PackLinks signs and checks pack.zip download links, so a snapshot's packUrl works in a
// plain <a href> without an Authorization header. A link names one project and expires.
type PackLinks struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewPackLinks returns PackLinks signing with an HMAC key derived from secret (the
// server's token secret); links are valid for ttl (default 1 h).
func NewPackLinks(secret string, ttl time.Duration) *PackLinks {
	if ttl <= 0 {
		ttl = time.Hour
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("packshot pack.zip links v1"))
	return &PackLinks{key: m.Sum(nil), ttl: ttl, now: time.Now}
}

// URL returns the signed absolute path of a project's pack.zip. The expiry is rounded up
// to a whole minute so that snapshots built within one minute carry the same link.
func (l *PackLinks) URL(projectID uuid.UUID) string {
	exp := l.now().Add(l.ttl).Truncate(time.Minute).Add(time.Minute).Unix()
	return "/api/projects/" + projectID.String() + "/pack.zip?exp=" + strconv.FormatInt(exp, 10) +
		"&sig=" + l.sign(projectID.String(), exp)
}

func (l *PackLinks) sign(id string, exp int64) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(id + "\n" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether exp and sig sign the project id and have not expired.
func (l *PackLinks) valid(id string, q url.Values) bool {
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || l.now().Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(l.sign(id, exp)), []byte(q.Get("sig")))
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
			if !l.valid(c.Param("id"), q) {
				return apperr.Errorf(apperr.EUNAUTHORIZED, "the download link is invalid or has expired: reload the project for a fresh one")
			}
			ctx := auth.WithUser(c.Request().Context(), auth.User{ID: "pack-link", Role: auth.RoleService})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
