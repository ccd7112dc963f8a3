package api

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/trpc"
)

// TestSessionExpiresWithTheToken checks a WebSocket's session ends when the verifier
// would start refusing its token (exp plus leeway), and names the token's user.
func TestSessionExpiresWithTheToken(t *testing.T) {
	t.Parallel()
	const secret = "session-test-secret-0123456789abcdef"
	v, err := auth.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Issue(secret, "alice", auth.RoleAuthenticated, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := tokenExpiry(tok)
	if !ok || exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Fatalf("tokenExpiry: %v %v; want about an hour from now", exp, ok)
	}
	ctx, err := authFunc(v, nil)(context.Background(), trpc.AuthRequest{ConnectionParams: map[string]string{"token": tok}})
	if err != nil {
		t.Fatal(err)
	}
	s := session(ctx)
	if s.User != "alice" || !s.Expires.Equal(exp.Add(auth.Leeway)) {
		t.Errorf("session %+v; want alice until %v", s, exp.Add(auth.Leeway))
	}
	if s := session(context.Background()); s != (trpc.Session{}) {
		t.Errorf("anonymous session %+v; want none", s)
	}
}

// TestClientIPBehindTrustedProxies checks X-Forwarded-For is believed only from a
// trusted proxy, right to left, so a client cannot pick the address it is counted as.
func TestClientIPBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	req := func(peer string, xff ...string) *http.Request {
		r := &http.Request{RemoteAddr: peer, Header: http.Header{}}
		for _, x := range xff {
			r.Header.Add("X-Forwarded-For", x)
		}
		return r
	}
	if f := clientIPFunc(nil); f != nil {
		t.Fatal("without trusted proxies the TCP peer must be the client")
	}
	f := clientIPFunc([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	for _, tc := range []struct {
		r    *http.Request
		want string
	}{
		{req("203.0.113.9:5000", "198.51.100.1"), ""},                      // untrusted peer: XFF ignored
		{req("10.1.2.3:5000", "198.51.100.1"), "198.51.100.1"},             // behind the proxy
		{req("10.1.2.3:5000", "6.6.6.6, 198.51.100.1"), "198.51.100.1"},    // a forged left entry is skipped
		{req("10.1.2.3:5000", "198.51.100.1", "10.9.9.9"), "198.51.100.1"}, // two proxies
		{req("10.1.2.3:5000", "not-an-ip"), ""},                            // malformed: the proxy itself
		{req("10.1.2.3:5000"), ""},                                         // no header
		{req("[::ffff:10.1.2.3]:5000", "2001:db8::1"), "2001:db8::1"},      // mapped peer, IPv6 client
		// Proxies that write ports or brackets: the client is still found (review item 7).
		{req("10.1.2.3:5000", "198.51.100.1:4711"), "198.51.100.1"},
		{req("10.1.2.3:5000", "[2001:db8::7]:4711"), "2001:db8::7"},
		{req("10.1.2.3:5000", "[2001:db8::7]"), "2001:db8::7"},
		{req("10.1.2.3:5000", "6.6.6.6, 198.51.100.1:4711, 10.9.9.9:80"), "198.51.100.1"},
		{req("10.1.2.3:5000", "6.6.6.6, unknown"), ""}, // unknown: the proxy itself, never the forgeable left
	} {
		if got := f(tc.r); got != tc.want {
			t.Errorf("peer %s, XFF %q: %q; want %q", tc.r.RemoteAddr, tc.r.Header.Values("X-Forwarded-For"), got, tc.want)
		}
	}
}
