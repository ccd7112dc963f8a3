package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/config"
)

// TestVerifyAudience: with AUTH_JWT_AUDIENCE set, a token for another audience (or none)
// is refused; Supabase's service_role key, which has neither `aud` nor `sub`, still works.
func TestVerifyAudience(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(testSecret, WithAudience("authenticated"))
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return clock }
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c) }

	if u, err := v.Verify(hs(supabaseClaims())); err != nil || u.Role != RoleAuthenticated {
		t.Fatalf("Supabase token for aud authenticated: %+v, %v", u, err)
	}
	if u, err := v.Verify(hs(with(supabaseClaims(), "aud", []string{"other", "authenticated"}))); err != nil || u.ID == "" {
		t.Fatalf("aud list holding authenticated: %+v, %v", u, err)
	}
	for name, c := range map[string]jwt.MapClaims{
		"wrong aud":     with(supabaseClaims(), "aud", "another-project"),
		"no aud":        with(supabaseClaims(), "aud", nil),
		"wrong aud svc": with(with(supabaseClaims(), "role", "service_role"), "aud", "another-project"),
	} {
		if u, err := v.Verify(hs(c)); err == nil {
			t.Errorf("%s: accepted as %+v", name, u)
		} else if want := `token audience not accepted (want "authenticated")`; err.Error() != want {
			t.Errorf("%s: %q; want %q", name, err, want)
		}
	}
	// Without an audience configured, aud is not looked at (packshot's own tokens and
	// other issuers' keep working).
	plain := newTestVerifier(t)
	if _, err := plain.Verify(hs(with(supabaseClaims(), "aud", "another-project"))); err != nil {
		t.Errorf("no audience configured: %v", err)
	}
}

// TestVerifySupabaseServiceKey: Supabase's service_role key (role service_role, no sub,
// no aud, as Supabase issues it) is the operator; a user token without sub is still
// refused.
func TestVerifySupabaseServiceKey(t *testing.T) {
	t.Parallel()
	key := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{
		"iss": "supabase", "ref": "abcdefghijklmnop", "role": "service_role",
		"iat": clock.Add(-time.Hour).Unix(), "exp": clock.Add(10 * 365 * 24 * time.Hour).Unix(),
	})
	for _, v := range []*Verifier{newTestVerifier(t), func() *Verifier {
		v, _ := NewVerifier(testSecret, WithAudience("authenticated"))
		v.now = func() time.Time { return clock }
		return v
	}()} {
		u, err := v.Verify(key)
		if err != nil || u != (User{ID: ServiceKeyUserID, Role: RoleService}) || !u.IsAdmin() {
			t.Fatalf("service_role key: %+v, %v; want the service role", u, err)
		}
	}
	anonNoSub := sign(t, jwt.SigningMethodHS256, []byte(testSecret), with(with(supabaseClaims(), "sub", nil), "role", "authenticated"))
	if u, err := newTestVerifier(t).Verify(anonNoSub); err == nil {
		t.Fatalf("authenticated token without sub accepted as %+v", u)
	}
}

// TestVerifyRefusesTheServiceKeysUserID: an ordinary user's token whose sub is the
// service key's user id (someone signed up as "service_role") is refused, so it cannot own
// what the operator created with the key; a service_role token naming it is the operator.
func TestVerifyRefusesTheServiceKeysUserID(t *testing.T) {
	t.Parallel()
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), with(supabaseClaims(), "sub", ServiceKeyUserID))
	u, err := newTestVerifier(t).Verify(tok)
	if ae := apperr.As(err); ae == nil || ae.Code != apperr.EUNAUTHORIZED || !strings.Contains(ae.Message, "reserved") {
		t.Errorf("authenticated token with sub %q: %+v, %v; want refused as reserved", ServiceKeyUserID, u, err)
	}
	tok = sign(t, jwt.SigningMethodHS256, []byte(testSecret), with(with(supabaseClaims(), "sub", ServiceKeyUserID), "role", RoleService))
	if u, err := newTestVerifier(t).Verify(tok); err != nil || u != (User{ID: ServiceKeyUserID, Role: RoleService}) {
		t.Errorf("service_role token with sub %q: %+v, %v; want the service role", ServiceKeyUserID, u, err)
	}
}

// TestSecretTooShort: a configured secret shorter than 32 bytes stops the start.
func TestSecretTooShort(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"AUTH_JWT_SECRET", "SUPABASE_JWT_SECRET"} {
		cfg, err := config.Load(func(k string) string {
			return map[string]string{name: "0123456789abcdef0123456789abcde", "DATABASE_URL": "postgres://db/x"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := Secret(cfg); err == nil {
			t.Errorf("%s of 31 bytes accepted: %q", name, s)
		}
	}
}

// TestLoopback tells this machine's names and addresses from everyone else's.
func TestLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.9.9.9:1": true, "[::1]:8080": true, "localhost:8080": true,
		"LOCALHOST": true, "app.localhost:80": true, "127.0.0.1": true, "::1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "192.168.1.5:8080": false,
		"evil.example:8080": false, "localhost.evil.example": false, "127.0.0.1.nip.io:80": false, "": false,
	} {
		if got := LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v; want %v", addr, got, want)
		}
	}
}
