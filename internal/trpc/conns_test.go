package trpc

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConnsPerIPv6Prefix opens connections from many addresses of one IPv6 /64, as one
// host can: they share one per-address cap; another /64 (and an IPv4 client) is served.
func TestConnsPerIPv6Prefix(t *testing.T) {
	t.Parallel()
	b := newLimitsBundle(t, Config{MaxConnsPerIP: 2}, nil, nil)
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"} {
		if _, _, err := b.dial(t, ip, ""); err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
	}
	_, resp, err := b.dial(t, "2001:db8:1:2:abcd::3", "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one /64: %v %v; want HTTP 429", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), string(LimitConnsPerIP)) {
		t.Errorf("refusal body %s; want it to name %s", body, LimitConnsPerIP)
	}
	for _, ip := range []string{"2001:db8:1:3::1", "10.0.0.1"} {
		w, _, err := b.dial(t, ip, "")
		if err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
		w.alive()
	}
}

// TestConnsTotal opens connections from ever new addresses (a botnet, or a v6 host
// rotating prefixes): past the router's overall cap they are refused with
// SERVICE_UNAVAILABLE naming conns_total; when one closes, a new one is served.
func TestConnsTotal(t *testing.T) {
	t.Parallel()
	b := newLimitsBundle(t, Config{MaxConns: 3, MaxConnsPerIP: 2}, nil, nil)
	var first *wsClient
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		w, _, err := b.dial(t, ip, "")
		if err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
		if i == 0 {
			first = w
		}
	}
	_, resp, err := b.dial(t, "10.0.0.4", "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("fourth connection: %v %v; want HTTP 503", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"SERVICE_UNAVAILABLE"`) || !strings.Contains(string(body), string(LimitConnsTotal)) {
		t.Errorf("refusal body %s; want SERVICE_UNAVAILABLE naming %s", body, LimitConnsTotal)
	}
	s := b.sse(t, "10.0.0.5", "")
	if ev := s.next(); !strings.HasPrefix(ev, "event: serialized-error\n") || !strings.Contains(ev, string(LimitConnsTotal)) {
		t.Errorf("SSE stream past the cap: %q; want an error naming %s", ev, LimitConnsTotal)
	}
	if n := b.refusals(LimitConnsTotal); n != 2 {
		t.Errorf("refusals counted: %d; want 2", n)
	}
	// A closed connection gives its slot back (the server notices the close on its own
	// time: keep dialling until it has).
	_ = first.c.CloseNow()
	for {
		w, resp, err := b.dial(t, "10.0.0.4", "")
		if err == nil {
			w.alive()
			break
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after a close: %v %v", err, resp)
		}
	}
}
