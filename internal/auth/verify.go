package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/apperr"
)

// Algorithm is the one signing algorithm packshot accepts and issues.
const Algorithm = "HS256"

// Leeway is how far `exp` and `nbf` may be off to allow for clocks that disagree.
const Leeway = 30 * time.Second

// MaxTokenBytes bounds a token's length; anything longer is refused before it is decoded.
// Supabase's access tokens are well under 2 KiB.
const MaxTokenBytes = 8 << 10

// claims is the part of a token packshot reads: the registered claims plus Supabase's role.
type claims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
}

// ServiceKeyUserID is the user id of a Supabase service_role key: a token with role
// service_role and no `sub` (Supabase's service key names no user). It owns what the
// operator creates with such a key.
const ServiceKeyUserID = "service_role"

// Verifier checks bearer tokens against one secret. It is safe for concurrent use.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
	// audience, when set, must be among a token's `aud` values.
	audience string
	// now is the clock `exp` and `nbf` are compared with; tests replace it.
	now func() time.Time
}

// VerifierOption changes how a Verifier checks tokens.
type VerifierOption func(*Verifier)

// WithAudience makes the Verifier require aud among a token's `aud` values
// (AUTH_JWT_AUDIENCE; Supabase's access tokens carry "authenticated"). A token without
// `aud` is refused too, except Supabase's service_role key, which has neither `aud` nor
// `sub`. An empty aud checks nothing.
func WithAudience(aud string) VerifierOption {
	return func(v *Verifier) { v.audience = aud }
}

// NewVerifier returns a Verifier for tokens signed with secret, used as raw bytes the way
// Supabase uses its JWT secret. An empty secret is an error: it would accept forgeries.
// (How short a configured secret may be is checked at start, by Secret.)
func NewVerifier(secret string, opts ...VerifierOption) (*Verifier, error) {
	if secret == "" {
		return nil, errors.New("auth: empty JWT secret")
	}
	v := &Verifier{secret: []byte(secret), now: time.Now}
	for _, o := range opts {
		o(v)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{Algorithm}),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v, nil
}

// Verify checks token and returns the user it names. Errors are *apperr.Error with code
// EUNAUTHORIZED: "token malformed", "token algorithm not accepted", "token signature
// invalid", "token expired", "token not valid yet", "token has no expiry", "token has no
// subject", "token subject reserved", "token role not accepted", "token audience not
// accepted".
//
// A service_role token without `sub` (Supabase's service key) is the operator, with user
// id ServiceKeyUserID; any other token must name its user, and not by that id.
func (v *Verifier) Verify(token string) (User, error) {
	if token == "" {
		return User{}, unauthorized("missing bearer token", nil)
	}
	if len(token) > MaxTokenBytes {
		return User{}, unauthorized("token too long", nil)
	}
	var c claims
	parsed, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) {
		return v.secret, nil
	})
	if err != nil {
		return User{}, parseError(parsed, err)
	}
	role := c.Role
	if role == "" {
		// Tokens from issuers that know no roles name an ordinary user.
		role = RoleAuthenticated
	}
	if !validRole(role) {
		return User{}, unauthorized(fmt.Sprintf("token role %q not accepted", truncate(role, 32)), nil)
	}
	serviceKey := role == RoleService && c.Subject == ""
	if v.audience != "" && !(serviceKey && len(c.Audience) == 0) && !slices.Contains(c.Audience, v.audience) {
		return User{}, unauthorized(fmt.Sprintf("token audience not accepted (want %q)", v.audience), nil)
	}
	if serviceKey {
		return User{ID: ServiceKeyUserID, Role: RoleService}, nil
	}
	if c.Subject == "" {
		return User{}, unauthorized("token has no subject", nil)
	}
	if c.Subject == ServiceKeyUserID && role != RoleService {
		// The service key's user id: an ordinary user's token naming it would own what
		// the operator created with the key.
		return User{}, unauthorized(fmt.Sprintf("token subject %q is reserved", ServiceKeyUserID), nil)
	}
	return User{ID: c.Subject, Role: role}, nil
}

// VerifyHeader checks the value of an Authorization header, which must be
// "Bearer <token>" (the scheme in any case), and returns the user it names. An empty
// header is "missing bearer token"; errors are as for Verify.
func (v *Verifier) VerifyHeader(authorization string) (User, error) {
	token, err := BearerToken(authorization)
	if err != nil {
		return User{}, err
	}
	return v.Verify(token)
}

// BearerToken returns the token in an Authorization header value "Bearer <token>". An
// empty header or another scheme is an EUNAUTHORIZED *apperr.Error.
func BearerToken(authorization string) (string, error) {
	authorization = strings.TrimSpace(authorization)
	if authorization == "" {
		return "", unauthorized("missing bearer token", nil)
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized(`authorization header must be "Bearer <token>"`, nil)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", unauthorized("missing bearer token", nil)
	}
	return token, nil
}

// parseError turns the JWT library's error into a message a client can act on. The
// algorithm is checked first, so a forged header is reported as such whatever else is
// wrong with the token.
func parseError(parsed *jwt.Token, err error) error {
	if errors.Is(err, jwt.ErrTokenMalformed) {
		return unauthorized("token malformed", err)
	}
	if parsed != nil {
		if alg, _ := parsed.Header["alg"].(string); alg != Algorithm {
			return unauthorized("token algorithm not accepted (want HS256)", err)
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("token signature invalid", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("token has no expiry", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token expired", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("token not valid yet", err)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("token issued in the future", err)
	default:
		return unauthorized("token invalid", err)
	}
}

// unauthorized returns the EUNAUTHORIZED error with message; cause is kept for logs.
func unauthorized(message string, cause error) *apperr.Error {
	return &apperr.Error{Code: apperr.EUNAUTHORIZED, Message: message, Err: cause}
}

// truncate shortens s to at most n bytes so a hostile claim cannot bloat a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
