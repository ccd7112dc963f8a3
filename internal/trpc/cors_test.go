package trpc

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// preflight sends a CORS preflight from origin asking for headers, through CORS(o).
func preflight(o Origins, origin, headers string) *httptest.ResponseRecorder {
	h := CORS(o, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) }))
	req := httptest.NewRequest(http.MethodOptions, "http://api.example.com/trpc/project.list", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestCORSPreflightAllowsTheHeadersAsked: a listed origin's preflight gets the headers it
// asks for (x-trpc-source, as T3 apps send), so custom headers work; a foreign origin's
// gets nothing; a malformed list is not echoed.
func TestCORSPreflightAllowsTheHeadersAsked(t *testing.T) {
	t.Parallel()
	o := NewOrigins([]string{"https://app.example.com"})
	rec := preflight(o, "https://app.example.com", "Content-Type, X-TRPC-Source, authorization")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("preflight: %d; want 204", rec.Code)
	}
	if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "content-type, x-trpc-source, authorization" {
		t.Errorf("Allow-Headers %q; want the asked headers", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin %q", got)
	}
	if rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Error("a listed origin gets credentials")
	}
	if got := preflight(o, "https://app.example.com", "").Header().Get("Access-Control-Allow-Headers"); got != "content-type, authorization, trpc-accept, last-event-id, trpc-batch-mode" {
		t.Errorf("nothing asked: Allow-Headers %q; want the tRPC headers", got)
	}
	if got := preflight(o, "https://app.example.com", "x-ok, bad header\r\nx-injected: 1").Header().Get("Access-Control-Allow-Headers"); got != "content-type, authorization, trpc-accept, last-event-id, trpc-batch-mode" {
		t.Errorf("malformed list: Allow-Headers %q; want the defaults, not an echo", got)
	}
	foreign := preflight(o, "https://evil.example", "x-trpc-source")
	if foreign.Code == http.StatusNoContent || foreign.Header().Get("Access-Control-Allow-Origin") != "" || foreign.Header().Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("foreign origin: %d %v; want no CORS grant", foreign.Code, foreign.Header())
	}
}

// TestCORSWildcardNeverWithCredentials: with "*", any origin may call, but never with
// credentials (browsers would refuse the pair; a wildcard must not carry cookies).
func TestCORSWildcardNeverWithCredentials(t *testing.T) {
	t.Parallel()
	rec := preflight(NewOrigins([]string{"*"}), "https://anyone.example", "x-trpc-source")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("wildcard preflight: %d %v", rec.Code, rec.Header())
	}
	if got := rec.Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("wildcard with Allow-Credentials %q", got)
	}
}

// TestOriginsOneRule: the rule CORS and the WebSocket share. Same host is always allowed,
// listed origins match exactly (scheme and port included, case aside), others not.
func TestOriginsOneRule(t *testing.T) {
	t.Parallel()
	o := NewOrigins([]string{" https://App.example.com/ ", "http://localhost:5173"})
	for origin, want := range map[string]bool{
		"":                                 true,
		"https://api.example.com":          true, // the server's own host
		"https://app.example.com":          true,
		"http://localhost:5173":            true,
		"http://app.example.com":           false,
		"https://app.example.com:8443":     false,
		"https://evil.example":             false,
		"null":                             false,
		"https://app.example.com.evil.com": false,
	} {
		req := httptest.NewRequest(http.MethodGet, "http://api.example.com/ws", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if got := o.Allowed(req); got != want {
			t.Errorf("Allowed(%q) = %v; want %v", origin, got, want)
		}
	}
}
