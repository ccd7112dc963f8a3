package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/apperr"
)

// FuzzVerify feeds arbitrary text to the verifier. Whatever arrives, it must not panic,
// must refuse with an EUNAUTHORIZED error that does not repeat the input, and must accept
// only tokens that name a user with a known role. The committed corpus in
// testdata/fuzz/FuzzVerify holds a valid token and the usual forgeries.
func FuzzVerify(f *testing.F) {
	v, err := NewVerifier(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	v.now = func() time.Time { return clock }
	valid, err := issueAt(testSecret, "alice", RoleAuthenticated, time.Hour, clock)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add("")
	f.Add("a.b.c")

	f.Fuzz(func(t *testing.T, token string) {
		u, err := v.Verify(token)
		if err == nil {
			if u.ID == "" || !validRole(u.Role) {
				t.Fatalf("accepted %q as %+v", token, u)
			}
			return
		}
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.EUNAUTHORIZED {
			t.Fatalf("error %v (%T); want EUNAUTHORIZED", err, err)
		}
		if len(token) > 16 && strings.Contains(ae.Message, token) {
			t.Fatalf("message %q repeats the token", ae.Message)
		}
	})
}
