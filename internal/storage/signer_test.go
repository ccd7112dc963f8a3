package storage

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/apperr"
)

var signClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestSigner(t *testing.T, secret string) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// linkParts splits a signed URL into its key, exp and sig.
func linkParts(t *testing.T, link string) (key, exp, sig string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := strings.CutPrefix(u.Path, "/files/")
	if !ok {
		t.Fatalf("link %q is not under /files/", link)
	}
	return key, u.Query().Get("exp"), u.Query().Get("sig")
}

func TestSignerURL(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, "secret")
	key := KeyFor([]byte("x"), "image/png")
	exp := signClock.Add(time.Hour)
	link := s.URL(key, exp)
	want := "/files/" + key + "?exp=" + strconv.FormatInt(exp.Unix(), 10) + "&sig="
	if !strings.HasPrefix(link, want) {
		t.Fatalf("URL %q; want prefix %q", link, want)
	}
	k, e, sig := linkParts(t, link)
	if err := s.Verify(k, e, sig, signClock); err != nil {
		t.Fatalf("fresh link refused: %v", err)
	}
	if err := s.Verify(k, e, sig, exp); err != nil {
		t.Fatalf("link refused in its last second: %v", err)
	}
	// Another instance with the same secret accepts it.
	if err := newTestSigner(t, "secret").Verify(k, e, sig, signClock); err != nil {
		t.Fatalf("same secret, other signer: %v", err)
	}
}

func TestSignerRefuses(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, "secret")
	key := KeyFor([]byte("x"), "image/png")
	other := KeyFor([]byte("y"), "image/png")
	exp := signClock.Add(time.Hour)
	_, e, sig := linkParts(t, s.URL(key, exp))
	later := strconv.FormatInt(exp.Add(24*time.Hour).Unix(), 10)
	flipped := []byte(sig)
	flipped[3] ^= 1

	for _, tc := range []struct {
		name, key, exp, sig string
		now                 time.Time
		want                error
	}{
		{"expired", key, e, sig, exp.Add(time.Second), ErrLinkExpired},
		{"other key", other, e, sig, signClock, ErrLinkSignature},
		{"exp pushed later", key, later, sig, signClock, ErrLinkSignature},
		{"exp spelled differently", key, "+" + e, sig, signClock, ErrLinkSignature},
		{"exp with leading zero", key, "0" + e, sig, signClock, ErrLinkSignature},
		{"signature altered", key, e, string(flipped), signClock, ErrLinkSignature},
		{"signature truncated", key, e, sig[:10], signClock, ErrLinkSignature},
		{"signature not base64", key, e, "***", signClock, ErrLinkSignature},
		{"signature padded", key, e, sig + "=", signClock, ErrLinkSignature},
		{"no signature", key, e, "", signClock, ErrLinkSignature},
		{"no exp", key, "", sig, signClock, ErrLinkSignature},
		{"exp not a number", key, "tomorrow", sig, signClock, ErrLinkSignature},
		{"other secret", key, e, newTestSigner(t, "other").Sign(key, exp), signClock, ErrLinkSignature},
		{"expired and tampered", other, e, sig, exp.Add(time.Hour), ErrLinkSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Verify(tc.key, tc.exp, tc.sig, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			if ae := apperr.As(err); ae == nil || ae.Code != apperr.EFORBIDDEN || ae.Message != tc.want.Error() {
				t.Errorf("got %#v; want EFORBIDDEN %q", ae, tc.want.Error())
			}
		})
	}
}

func TestSignerQueryForOtherRoutes(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, "secret")
	exp := signClock.Add(time.Minute)
	q, err := url.ParseQuery(s.Query("pack/7b1c", exp))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify("pack/7b1c", q.Get("exp"), q.Get("sig"), signClock); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify("pack/7b1d", q.Get("exp"), q.Get("sig"), signClock); !errors.Is(err, ErrLinkSignature) {
		t.Fatalf("signature for one name accepted for another: %v", err)
	}
}

func TestNewSignerRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	if _, err := NewSigner(""); err == nil {
		t.Fatal("NewSigner accepted an empty secret")
	}
}
