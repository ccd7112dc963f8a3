package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the `iss` claim of tokens packshot signs itself.
const Issuer = "packshot"

// Issue returns an HS256 token for userID with role (RoleAuthenticated or RoleService)
// that expires after ttl, shaped like a Supabase access token (`sub`, `role`,
// `aud` "authenticated", `iat`, `exp`). It is what `packshot token`, the dev-mode token
// endpoint and tests use.
func Issue(secret, userID, role string, ttl time.Duration) (string, error) {
	return issueAt(secret, userID, role, ttl, time.Now())
}

// issueAt is Issue with the clock given.
func issueAt(secret, userID, role string, ttl time.Duration, now time.Time) (string, error) {
	switch {
	case secret == "":
		return "", errors.New("issue token: empty secret")
	case userID == "":
		return "", errors.New("issue token: empty user id")
	case !validRole(role):
		return "", fmt.Errorf("issue token: role %q; want %s or %s", role, RoleAuthenticated, RoleService)
	case ttl <= 0:
		return "", fmt.Errorf("issue token: ttl %s; want a positive duration", ttl)
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{RoleAuthenticated},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role: role,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return s, nil
}
