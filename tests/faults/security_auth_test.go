//go:build faults

package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// sseFirst opens project.onUpdate over SSE at base with connectionParams params (and
// header), as a browser's EventSource does, and returns the first event after
// "connected": its name ("" for data) and data.
func sseFirst(ctx context.Context, t *testing.T, base, projectID string, params map[string]string, header http.Header) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	input, _ := json.Marshal(map[string]string{"id": projectID})
	u := base + "/trpc/project.onUpdate?input=" + url.QueryEscape(string(input))
	if params != nil {
		cp, _ := json.Marshal(params)
		u += "&connectionParams=" + url.QueryEscape(string(cp))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("SSE connect: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	event, data := "", ""
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "":
			if event != "connected" && event != "ping" && (event != "" || data != "") {
				return event, data
			}
			event, data = "", ""
		}
	}
	t.Fatalf("SSE stream ended without an event (HTTP %d)", resp.StatusCode)
	return "", ""
}

// get returns the status and body of GET u.
func get(ctx context.Context, t *testing.T, u string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAuthHardeningAcrossInstances attacks two serve processes on one database with
// AUTH_JWT_AUDIENCE and PACKSHOT_METRICS_ADDR set: an SSE ticket taken on one instance
// opens a stream on the other once and is refused when replayed; a write carrying only
// the token cookie, a token for another audience and a token in the cookie for a
// ticket are refused; Supabase's service_role key is the operator; /metrics is off the
// public port and on its own. Both instances keep answering.
func TestAuthHardeningAcrossInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "1", "AUTH_JWT_AUDIENCE": "authenticated"})
	metricsAddr := freeAddr(t)
	a := s.serve(ctx, "serve-a", map[string]string{"PACKSHOT_METRICS_ADDR": metricsAddr})
	b := s.serve(ctx, "serve-b", map[string]string{"PACKSHOT_METRICS_ADDR": freeAddr(t)})
	waitFor(ctx, t, "both instances ready", func(ctx context.Context) (bool, error) {
		return a.ready(ctx) && b.ready(ctx), nil
	})
	tok := token(t, "alice")
	alice := api{base: a.baseURL(), tok: tok}
	var proj snapshot
	if err := alice.call(ctx, true, "project.create", map[string]any{"name": "Ticketed"}, &proj); err != nil {
		t.Fatalf("project.create: %v", err)
	}

	t.Run("ticket on another instance, once", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.baseURL()+"/api/sse-ticket", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tk struct{ Ticket string }
		_ = json.NewDecoder(resp.Body).Decode(&tk)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || tk.Ticket == "" {
			t.Fatalf("POST /api/sse-ticket: %d", resp.StatusCode)
		}
		if ev, data := sseFirst(ctx, t, b.baseURL(), proj.ID, map[string]string{"ticket": tk.Ticket}, nil); ev != "" || !strings.Contains(data, proj.ID) {
			t.Fatalf("ticket on instance B: event %q data %s; want the snapshot", ev, data)
		}
		if ev, data := sseFirst(ctx, t, a.baseURL(), proj.ID, map[string]string{"ticket": tk.Ticket}, nil); ev != "serialized-error" || !strings.Contains(data, "UNAUTHORIZED") {
			t.Fatalf("replayed ticket: event %q data %s; want UNAUTHORIZED", ev, data)
		}
	})

	t.Run("cookie only for SSE", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.baseURL()+"/trpc/project.create", strings.NewReader(`{"name":"Planted"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", "packshot_token="+tok)
		err := api{base: a.baseURL()}.do(req, nil)
		if te, ok := err.(*trpcError); !ok || te.Data.Code != "UNAUTHORIZED" {
			t.Fatalf("mutation with only the cookie: %v; want UNAUTHORIZED", err)
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, a.baseURL()+"/api/sse-ticket", nil)
		req.Header.Set("Cookie", "packshot_token="+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("ticket with only the cookie: %d; want 401", resp.StatusCode)
		}
	})

	t.Run("audience and the service key", func(t *testing.T) {
		sign := func(c jwt.MapClaims) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(jwtSecret))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		exp := time.Now().Add(time.Hour).Unix()
		other := sign(jwt.MapClaims{"sub": "mallory", "role": "authenticated", "aud": "another-project", "exp": exp})
		var out any
		err := api{base: b.baseURL(), tok: other}.call(ctx, false, "project.list", nil, &out)
		if te, ok := err.(*trpcError); !ok || te.Data.Code != "UNAUTHORIZED" {
			t.Fatalf("token for another audience: %v; want UNAUTHORIZED", err)
		}
		serviceKey := sign(jwt.MapClaims{"iss": "supabase", "ref": "faults", "role": "service_role", "iat": time.Now().Unix(), "exp": exp})
		if err := (api{base: b.baseURL(), tok: serviceKey}).call(ctx, false, "admin.jobStats", nil, &out); err != nil {
			t.Fatalf("Supabase service_role key on admin.jobStats: %v", err)
		}
	})

	t.Run("metrics on their own address", func(t *testing.T) {
		if code, _ := get(ctx, t, a.baseURL()+"/metrics", nil); code != http.StatusNotFound {
			t.Errorf("/metrics on the public port: %d; want 404", code)
		}
		if code, body := get(ctx, t, "http://"+metricsAddr+"/metrics", nil); code != http.StatusOK || !strings.Contains(body, "packshot_") {
			t.Errorf("/metrics on PACKSHOT_METRICS_ADDR: %d", code)
		}
	})

	for _, p := range []*proc{a, b} {
		if !p.running() || !p.ready(ctx) {
			t.Fatalf("%s stopped answering", p.name)
		}
	}
}

// TestServeRefusesShortSecret: a 31-byte AUTH_JWT_SECRET stops serve at start with a
// message that says why, instead of serving tokens that can be brute-forced.
func TestServeRefusesShortSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"AUTH_JWT_SECRET": "0123456789abcdef0123456789abcde"})
	cmd := exec.CommandContext(ctx, suite.bin, "serve", "-addr", freeAddr(t))
	cmd.Env = s.environ(nil)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "at least 32") || strings.Contains(string(out), "packshot listening") {
		t.Fatalf("serve with a 31-byte secret: %v\n%s", err, out)
	}
}
