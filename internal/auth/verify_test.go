package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/apperr"
)

const testSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

// clock is the fixed instant the tests' verifier believes it is.
var clock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return clock }
	return v
}

// sign signs raw claims with method and key, as a forger or another issuer would.
func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// supabaseClaims are the claims of a Supabase access token valid at clock.
func supabaseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"aud":        "authenticated",
		"exp":        clock.Add(time.Hour).Unix(),
		"iat":        clock.Add(-time.Minute).Unix(),
		"iss":        "https://project.supabase.co/auth/v1",
		"sub":        "8d0fd2b4-2c2a-4b8e-9f40-5c1f4f0c3e11",
		"role":       "authenticated",
		"aal":        "aal1",
		"email":      "alice@example.com",
		"session_id": "5f3b1f2e-1111-2222-3333-444455556666",
	}
}

func with(c jwt.MapClaims, key string, value any) jwt.MapClaims {
	if value == nil {
		delete(c, key)
	} else {
		c[key] = value
	}
	return c
}

// unsigned builds a token with an arbitrary header and an empty signature, the shape of
// an `alg: none` forgery.
func unsigned(t *testing.T, header string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	s, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	_, payload, _ := strings.Cut(s, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + payload + "."
}

func TestVerifyAcceptsSupabaseAndPackshotTokens(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t)

	u, err := v.Verify(sign(t, jwt.SigningMethodHS256, []byte(testSecret), supabaseClaims()))
	if err != nil {
		t.Fatalf("Supabase token: %v", err)
	}
	if u.ID != "8d0fd2b4-2c2a-4b8e-9f40-5c1f4f0c3e11" || u.Role != RoleAuthenticated || u.IsAdmin() {
		t.Errorf("Supabase token: got %+v", u)
	}

	tok, err := issueAt(testSecret, "alice", RoleService, time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	u, err = v.Verify(tok)
	if err != nil {
		t.Fatalf("issued token: %v", err)
	}
	if u != (User{ID: "alice", Role: RoleService}) || !u.IsAdmin() {
		t.Errorf("issued token: got %+v", u)
	}
}

func TestVerifyRoles(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t)
	for _, tc := range []struct {
		role    any
		want    string
		wantErr string
	}{
		{role: "authenticated", want: RoleAuthenticated},
		{role: "service_role", want: RoleService},
		{role: nil, want: RoleAuthenticated},
		{role: "anon", wantErr: `token role "anon" not accepted`},
		{role: "supabase_admin", wantErr: `token role "supabase_admin" not accepted`},
		{role: 7, wantErr: "token malformed"},
	} {
		tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), with(supabaseClaims(), "role", tc.role))
		u, err := v.Verify(tok)
		if tc.wantErr != "" {
			assertUnauthorized(t, err, tc.wantErr, tok)
			continue
		}
		if err != nil || u.Role != tc.want {
			t.Errorf("role %v: got %+v, %v; want role %s", tc.role, u, err, tc.want)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c) }
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	valid := hs(supabaseClaims())
	parts := strings.Split(valid, ".")

	for _, tc := range []struct {
		name, token, want string
	}{
		{"empty", "", "missing bearer token"},
		{"expired", hs(with(supabaseClaims(), "exp", clock.Add(-time.Minute).Unix())), "token expired"},
		{"not yet valid", hs(with(supabaseClaims(), "nbf", clock.Add(time.Minute).Unix())), "token not valid yet"},
		{"no exp", hs(with(supabaseClaims(), "exp", nil)), "token has no expiry"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret"), supabaseClaims()), "token signature invalid"},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory","role":"service_role","exp":9999999999}`)) + "." + parts[2], "token signature invalid"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "token signature invalid"},
		{"alg none", unsigned(t, `{"alg":"none","typ":"JWT"}`, supabaseClaims()), "token algorithm not accepted"},
		{"alg None", unsigned(t, `{"alg":"None","typ":"JWT"}`, supabaseClaims()), "token algorithm not accepted"},
		{"alg missing", unsigned(t, `{"typ":"JWT"}`, supabaseClaims()), "token algorithm not accepted"},
		{"alg HS512", sign(t, jwt.SigningMethodHS512, []byte(testSecret), supabaseClaims()), "token algorithm not accepted"},
		{"alg HS384", sign(t, jwt.SigningMethodHS384, []byte(testSecret), supabaseClaims()), "token algorithm not accepted"},
		{"alg RS256", sign(t, jwt.SigningMethodRS256, rsaKey, supabaseClaims()), "token algorithm not accepted"},
		{"alg ES256", sign(t, jwt.SigningMethodES256, ecKey, supabaseClaims()), "token algorithm not accepted"},
		{"alg RS256 header on HMAC signature", unsigned(t, `{"alg":"RS256","typ":"JWT"}`, supabaseClaims()), "token algorithm not accepted"},
		{"missing sub", hs(with(supabaseClaims(), "sub", nil)), "token has no subject"},
		{"empty sub", hs(with(supabaseClaims(), "sub", "")), "token has no subject"},
		{"numeric sub", hs(with(supabaseClaims(), "sub", 42)), "token malformed"},
		{"two segments", parts[0] + "." + parts[1], "token malformed"},
		{"garbage", "not a token", "token malformed"},
		{"bad base64", "!!!." + parts[1] + "." + parts[2], "token malformed"},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + parts[1] + "." + parts[2], "token malformed"},
		{"huge", strings.Repeat("a", MaxTokenBytes+1), "token too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := v.Verify(tc.token)
			if err == nil {
				t.Fatalf("accepted as %+v", u)
			}
			assertUnauthorized(t, err, tc.want, tc.token)
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c) }

	// A client whose clock is a few seconds off is still let in...
	for name, tok := range map[string]string{
		"expired 10s ago":      hs(with(supabaseClaims(), "exp", clock.Add(-10*time.Second).Unix())),
		"valid from 10s hence": hs(with(supabaseClaims(), "nbf", clock.Add(10*time.Second).Unix())),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// ...but not one past the leeway.
	tok := hs(with(supabaseClaims(), "exp", clock.Add(-Leeway-time.Second).Unix()))
	if _, err := v.Verify(tok); err == nil {
		t.Error("token expired past the leeway was accepted")
	}
}

func TestVerifyHeader(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t)
	tok, err := issueAt(testSecret, "bob", RoleAuthenticated, time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "  Bearer   " + tok + " "} {
		if u, err := v.VerifyHeader(h); err != nil || u.ID != "bob" {
			t.Errorf("%q: got %+v, %v", h, u, err)
		}
	}
	for h, want := range map[string]string{
		"":               "missing bearer token",
		"Bearer":         `authorization header must be "Bearer <token>"`,
		"Bearer ":        `authorization header must be "Bearer <token>"`,
		"Basic " + tok:   `authorization header must be "Bearer <token>"`,
		tok:              `authorization header must be "Bearer <token>"`,
		"Bearer garbage": "token malformed",
	} {
		_, err := v.VerifyHeader(h)
		assertUnauthorized(t, err, want, tok)
	}
}

func TestNewVerifierRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	if _, err := NewVerifier(""); err == nil {
		t.Fatal("NewVerifier accepted an empty secret")
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	t.Parallel()
	for name, call := range map[string]func() (string, error){
		"empty secret": func() (string, error) { return Issue("", "alice", RoleAuthenticated, time.Hour) },
		"empty user":   func() (string, error) { return Issue(testSecret, "", RoleAuthenticated, time.Hour) },
		"bad role":     func() (string, error) { return Issue(testSecret, "alice", "admin", time.Hour) },
		"zero ttl":     func() (string, error) { return Issue(testSecret, "alice", RoleAuthenticated, 0) },
	} {
		if tok, err := call(); err == nil {
			t.Errorf("%s: issued %q", name, tok)
		}
	}
}

func TestIssueRoundTripsWithRealClock(t *testing.T) {
	t.Parallel()
	tok, err := Issue(testSecret, "carol", RoleAuthenticated, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := v.Verify(tok); err != nil || u != (User{ID: "carol", Role: RoleAuthenticated}) {
		t.Fatalf("got %+v, %v", u, err)
	}
}

// assertUnauthorized checks err is an EUNAUTHORIZED *apperr.Error whose message starts
// with want and does not give the token back.
func assertUnauthorized(t *testing.T, err error, want, token string) {
	t.Helper()
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.EUNAUTHORIZED {
		t.Fatalf("error %v (%T); want an EUNAUTHORIZED *apperr.Error", err, err)
	}
	if !strings.HasPrefix(ae.Message, want) {
		t.Errorf("message %q; want it to start with %q", ae.Message, want)
	}
	if len(token) > 8 && strings.Contains(ae.Message, token) {
		t.Errorf("message %q repeats the token", ae.Message)
	}
}
