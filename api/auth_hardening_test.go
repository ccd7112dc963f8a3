package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/telemetry"
)

// authServer is a packshot handler in dev mode, served in-process (ServeHTTP) so a test
// can set the peer address a request comes from without sending any traffic.
func authServer(t *testing.T, deps api.Deps) http.Handler {
	t.Helper()
	d := pgtest.New(t)
	blobs, signer, verifier := testParts(t)
	links := api.NewPackLinks(signer, time.Hour)
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.ReadyFunc == nil {
		deps.ReadyFunc = func(context.Context) error { return nil }
	}
	deps.Store, deps.Metrics, deps.Verifier, deps.PackLinks = d.Store, telemetry.New(), verifier, links
	deps.Pack = newTestPack(t, testPackOptions{store: d.Store, blobs: pack.StorageBlobs(blobs, signer, time.Hour),
		logger: deps.Logger, packURL: links.URL}).svc
	deps.Tickets = auth.NewTickets(d.Store, 0, 0)
	deps.DevTokenFunc = func(user, role string) (string, error) { return auth.Issue(testSecret, user, role, time.Hour) }
	return api.NewServer(deps)
}

// serveLocal sends req to h as if it came from peer (host:port) and returns the answer.
func serveLocal(h http.Handler, req *http.Request, peer string) *httptest.ResponseRecorder {
	req.RemoteAddr = peer
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestDevTokenRefusesOtherSitesAndMachines sends the attacks on dev mode's token endpoint
// (which hands out service_role to whoever asks): a cross-site text/plain form post, a
// cross-site fetch, a DNS-rebinding request (a foreign Host on the loopback address),
// and a request from another machine. Each is refused with a problem saying why, and
// the web app's own same-origin sign-in and a local curl still get a token.
func TestDevTokenRefusesOtherSitesAndMachines(t *testing.T) {
	t.Parallel()
	h := authServer(t, api.Deps{})
	const body = `{"user":"x","role":"service_role"}`
	post := func(host, contentType, origin string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "http://"+host+"/api/dev/token", strings.NewReader(body))
		req.Host = host
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return req
	}
	for _, tc := range []struct {
		name       string
		req        *http.Request
		peer       string
		wantStatus int
		wantDetail string
	}{
		{"cross-site form post (text/plain)", post("127.0.0.1:8080", "text/plain", "https://evil.example"), "127.0.0.1:50000", 403, "another origin"},
		{"text/plain without Origin", post("127.0.0.1:8080", "text/plain", ""), "127.0.0.1:50000", 415, "application/json"},
		{"urlencoded form", post("localhost:8080", "application/x-www-form-urlencoded", ""), "127.0.0.1:50000", 415, "application/json"},
		{"cross-site fetch with JSON", post("127.0.0.1:8080", "application/json", "https://evil.example"), "127.0.0.1:50000", 403, "another origin"},
		{"opaque origin", post("127.0.0.1:8080", "application/json", "null"), "127.0.0.1:50000", 403, "another origin"},
		{"DNS rebinding (foreign Host)", post("rebind.evil.example:8080", "application/json", "http://rebind.evil.example:8080"), "127.0.0.1:50000", 403, "loopback Host"},
		{"another machine", post("127.0.0.1:8080", "application/json", ""), "203.0.113.7:41000", 403, "loopback peer"},
		{"another machine, IPv6", post("[::1]:8080", "application/json", ""), "[2001:db8::7]:41000", 403, "loopback peer"},
	} {
		rec := serveLocal(h, tc.req, tc.peer)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if rec.Code != tc.wantStatus || !strings.Contains(p.Detail, tc.wantDetail) || strings.Contains(rec.Body.String(), "token\":") {
			t.Errorf("%s: %d %s; want %d naming %q", tc.name, rec.Code, rec.Body, tc.wantStatus, tc.wantDetail)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("%s: Content-Type %q; want problem JSON", tc.name, ct)
		}
	}
	// The web app's sign-in (same origin, JSON) and curl on this machine still work.
	for name, req := range map[string]*http.Request{
		"web app":    post("127.0.0.1:8080", "application/json", "http://127.0.0.1:8080"),
		"localhost":  post("localhost:8080", "application/json; charset=utf-8", "http://localhost:8080"),
		"curl":       post("127.0.0.1:8080", "application/json", ""),
		"curl, IPv6": post("[::1]:8080", "application/json", ""),
	} {
		peer := "127.0.0.1:50000"
		if strings.HasPrefix(req.Host, "[") {
			peer = "[::1]:50000"
		}
		rec := serveLocal(h, req, peer)
		var tr struct{ Token string }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &tr) != nil || tr.Token == "" {
			t.Errorf("%s: %d %s; want a token", name, rec.Code, rec.Body)
		}
	}
	if rec := serveLocal(h, httptest.NewRequest(http.MethodGet, "/healthz", nil), "127.0.0.1:1"); rec.Code != http.StatusOK {
		t.Fatalf("after the attacks /healthz answers %d", rec.Code)
	}
}

// TestDevTokenRefusedThroughATunnel sends the dev-token request as a local tunnel or
// proxy relays it (ngrok --host-header=rewrite, cloudflared, ssh -R with a proxy): from
// the loopback peer, with a loopback Host, but carrying the proxy's forwarding headers.
// It is refused: the caller is on another machine.
func TestDevTokenRefusedThroughATunnel(t *testing.T) {
	t.Parallel()
	h := authServer(t, api.Deps{})
	for name, hdr := range map[string][2]string{
		"X-Forwarded-For":  {"X-Forwarded-For", "203.0.113.7"},
		"Forwarded":        {"Forwarded", "for=203.0.113.7;proto=https"},
		"X-Forwarded-Host": {"X-Forwarded-Host", "abc.ngrok.example"},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://localhost:8080/api/dev/token", strings.NewReader(`{"user":"x","role":"service_role"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(hdr[0], hdr[1])
		rec := serveLocal(h, req, "127.0.0.1:50000")
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "proxy or tunnel") || strings.Contains(rec.Body.String(), "token\":") {
			t.Errorf("%s: %d %s; want 403 naming the proxy", name, rec.Code, rec.Body)
		}
	}
}

// TestCookieAuthenticatesOnlyAnSSEConnect sends what a cross-site page can make a browser
// send with the user's cookie: tRPC and REST writes carrying the token cookie and no
// Authorization header. They are refused as unauthenticated; the cookie still opens an
// SSE subscription (a GET that changes nothing), the one thing it is for.
func TestCookieAuthenticatesOnlyAnSSEConnect(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	tok := token(t, "alice", auth.RoleAuthenticated)
	cookie := http.Header{"Cookie": {api.TokenCookie + "=" + tok}, "Content-Type": {"application/json"}}

	req, _ := http.NewRequest(http.MethodPost, b.url+"/trpc/project.create", strings.NewReader(`{"name":"Planted"}`))
	req.Header = cookie.Clone()
	if r := b.do(t, "", req); r.code() != "UNAUTHORIZED" {
		t.Errorf("tRPC mutation with only the cookie: %d %s; want UNAUTHORIZED", r.status, r.code())
	}
	resp, raw := b.rest(t, "", http.MethodPost, "/api/projects", strings.NewReader(`{"name":"Planted"}`), cookie)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("REST POST with only the cookie: %d %s; want 401", resp.StatusCode, raw)
	}
	req, _ = http.NewRequest(http.MethodGet, b.url+"/trpc/project.list", nil)
	req.Header = cookie.Clone()
	if r := b.do(t, "", req); r.code() != "UNAUTHORIZED" {
		t.Errorf("tRPC query with only the cookie: %s; want UNAUTHORIZED", r.code())
	}
	if r := b.query(t, tok, "project.list", nil); r.Error != nil {
		t.Fatalf("with the header the same user is served: %s", r.Error.Message)
	}
}

// sseConnect opens project.onUpdate over SSE with connectionParams params and no
// Authorization header, as the web app's EventSource does, and returns the first event
// that is not "connected" or "ping".
func sseConnect(t *testing.T, base, projectID string, params map[string]string, header http.Header) (event, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	input, _ := json.Marshal(map[string]string{"id": projectID})
	cp, _ := json.Marshal(params)
	u := base + "/trpc/project.onUpdate?input=" + url.QueryEscape(string(input)) + "&connectionParams=" + url.QueryEscape(string(cp))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "":
			if event == "connected" || event == "ping" || (event == "" && data == "") {
				event, data = "", ""
				continue
			}
			return event, data
		}
	}
	t.Fatalf("SSE stream ended without an event (status %d)", resp.StatusCode)
	return "", ""
}

// TestSSETicketWorksOnceOnAnyInstance: a ticket from POST /api/sse-ticket (bearer token)
// opens one SSE subscription on another instance sharing the database; the same ticket
// replayed (as from a proxy log) is refused; a ticket cannot be had with the cookie; and
// the token cookie, the one other way in for an EventSource, still opens a stream.
func TestSSETicketWorksOnceOnAnyInstance(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 2, -1)
	a, b := c.instances[0], c.instances[1]
	tok := token(t, "alice", auth.RoleAuthenticated)
	proj := createProject(t, a, tok, map[string]any{"name": "Ticketed"})

	// An OPTIONS that is no preflight (no Access-Control-Request-Method) mints nothing.
	if resp, raw := a.rest(t, tok, http.MethodOptions, "/api/sse-ticket", nil, nil); strings.Contains(string(raw), "pst_") {
		t.Fatalf("OPTIONS /api/sse-ticket: %d %s; want no ticket", resp.StatusCode, raw)
	}
	resp, raw := a.rest(t, tok, http.MethodPost, "/api/sse-ticket", nil, nil)
	var tk struct {
		Ticket    string    `json:"ticket"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &tk) != nil || tk.Ticket == "" || strings.Contains(tk.Ticket, tok) {
		t.Fatalf("POST /api/sse-ticket: %d %s", resp.StatusCode, raw)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("ticket answer Cache-Control %q; want no-store", cc)
	}

	event, data := sseConnect(t, b.url, proj.ID.String(), map[string]string{"ticket": tk.Ticket}, nil)
	var s pack.Snapshot
	if event != "" || json.Unmarshal([]byte(data), &s) != nil || s.ID != proj.ID {
		t.Fatalf("SSE with a ticket on the other instance: event %q data %s; want the project's snapshot", event, data)
	}
	event, data = sseConnect(t, a.url, proj.ID.String(), map[string]string{"ticket": tk.Ticket}, nil)
	if event != "serialized-error" || !strings.Contains(data, "UNAUTHORIZED") {
		t.Fatalf("replayed ticket: event %q data %s; want an UNAUTHORIZED serialized-error", event, data)
	}

	cookie := http.Header{"Cookie": {api.TokenCookie + "=" + tok}}
	resp, raw = a.rest(t, "", http.MethodPost, "/api/sse-ticket", nil, cookie)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ticket with only the cookie: %d %s; want 401", resp.StatusCode, raw)
	}
	if event, data = sseConnect(t, a.url, proj.ID.String(), nil, cookie); event != "" || !strings.Contains(data, proj.ID.String()) {
		t.Errorf("SSE with the cookie: event %q data %s; want the snapshot", event, data)
	}
}

// TestReadyzDoesNotShowDatabaseErrors: a failing readiness check answers 503 without the
// database's error text (host names, user names, addresses); the log has it.
func TestReadyzDoesNotShowDatabaseErrors(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	dbErr := errors.New("database unreachable: failed to connect to `host=db.internal.example user=packshot database=prod`: dial tcp 10.1.2.3:5432: connect: connection refused")
	for _, h := range []http.Handler{
		api.NewServer(api.Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: telemetry.New(),
			ReadyFunc: func(context.Context) error { return dbErr }}),
		api.NewOpsServer(slog.New(slog.NewTextHandler(&logs, nil)), func(context.Context) error { return dbErr }, telemetry.New()),
	} {
		rec := serveLocal(h, httptest.NewRequest(http.MethodGet, "/readyz", nil), "127.0.0.1:1")
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz: %d; want 503", rec.Code)
		}
		for _, leak := range []string{"db.internal", "10.1.2.3", "user=", "packshot database"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("/readyz body %s shows %q", rec.Body, leak)
			}
		}
	}
	if !strings.Contains(logs.String(), "10.1.2.3") {
		t.Errorf("the log does not have the readiness error: %s", logs.String())
	}
	rec := serveLocal(api.NewServer(api.Deps{Logger: slog.New(slog.DiscardHandler), Metrics: telemetry.New(),
		ReadyFunc: func(context.Context) error { return api.ErrMigrationsPending }}),
		httptest.NewRequest(http.MethodGet, "/readyz", nil), "127.0.0.1:1")
	if !strings.Contains(rec.Body.String(), "migrations pending") {
		t.Errorf("/readyz with migrations pending: %s; want it named", rec.Body)
	}
}

// TestMetricsOffThePublicPort: with metrics on their own address, the public server
// answers /metrics with 404.
func TestMetricsOffThePublicPort(t *testing.T) {
	t.Parallel()
	deps := api.Deps{Logger: slog.New(slog.DiscardHandler), Metrics: telemetry.New(), ReadyFunc: func(context.Context) error { return nil }}
	if rec := serveLocal(api.NewServer(deps), httptest.NewRequest(http.MethodGet, "/metrics", nil), "127.0.0.1:1"); rec.Code != http.StatusOK {
		t.Fatalf("/metrics by default: %d; want 200", rec.Code)
	}
	deps.NoPublicMetrics = true
	if rec := serveLocal(api.NewServer(deps), httptest.NewRequest(http.MethodGet, "/metrics", nil), "127.0.0.1:1"); rec.Code != http.StatusNotFound {
		t.Fatalf("/metrics with PACKSHOT_METRICS_ADDR: %d; want 404", rec.Code)
	}
}

// TestWebSocketAndCORSOriginsAgree: PACKSHOT_ALLOWED_ORIGINS lists origins as browsers
// send them, and the WebSocket accepts exactly the origins CORS does: a listed one, the
// server's own, and no other. Entries that are not origins (a bare host, a glob) match
// nothing on either; the WebSocket used to read them as host patterns, so a page CORS
// refused could still open a socket.
func TestWebSocketAndCORSOriginsAgree(t *testing.T) {
	t.Parallel()
	h := authServer(t, api.Deps{AllowedOrigins: []string{"https://app.example.com", "*.partner.example", "bare.example"}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	self := srv.URL
	for origin, want := range map[string]bool{
		"https://app.example.com": true, self: true, "": true,
		"https://evil.example": false, "http://app.example.com": false, "https://app.example.com.evil.example": false,
		"https://x.partner.example": false, "https://bare.example": false,
	} {
		corsOK := true
		for _, path := range []string{"/trpc/project.list", "/api/sse-ticket"} {
			pre, _ := http.NewRequest(http.MethodOptions, srv.URL+path, nil)
			pre.Header.Set("Origin", origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization, x-trpc-source")
			resp, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			granted := resp.Header.Get("Access-Control-Allow-Origin") == origin && resp.Header.Get("Access-Control-Allow-Headers") == "authorization, x-trpc-source"
			corsOK = corsOK && granted
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		hdr := http.Header{}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
		cancel()
		wsOK := err == nil
		if wsOK {
			conn.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: WebSocket refused without a 403: %v", origin, err)
		}
		if wsOK != want {
			t.Errorf("origin %q: WebSocket accepted %v; want %v", origin, wsOK, want)
		}
		if origin != "" && origin != self && corsOK != want {
			t.Errorf("origin %q: CORS allowed %v; want %v (the same as the WebSocket)", origin, corsOK, want)
		}
	}
}

// TestJobErrorsShownToUsersAreSafe: a job that failed with a server-side error (here a
// database error naming a host, a user and an address, as a pgx error does) is shown
// to its owner as a fixed sentence in the project snapshot and in job.get; the service
// role reads the stored error in full.
func TestJobErrorsShownToUsersAreSafe(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "alice", auth.RoleAuthenticated)
	proj := createProject(t, b, tok, map[string]any{"name": "Leaky"})
	internal := "record image: failed to connect to `host=db.internal.example user=packshot database=prod`: dial tcp 10.1.2.3:5432: connect: connection refused"
	var jobID string
	ctx := context.Background()
	err := b.db.Pool.QueryRow(ctx, `SELECT (enqueue_job(kind => $1, user_id => 'alice', project_id => $2::uuid, notify => false)).id::text`,
		pack.Kind("main"), proj.ID).Scan(&jobID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Pool.Exec(ctx, `UPDATE job_queue SET status = 'failed', attempts = 3, completed_at = now(), last_error = $2 WHERE id = $1::uuid`,
		jobID, internal)
	if err != nil {
		t.Fatal(err)
	}
	leaks := func(s string) bool {
		return strings.Contains(s, "10.1.2.3") || strings.Contains(s, "db.internal") || strings.Contains(s, "host=")
	}

	var snap pack.Snapshot
	b.query(t, tok, "project.get", map[string]any{"id": proj.ID}).decode(t, &snap)
	main := slot(t, snap, "main")
	if main.Error == nil || leaks(*main.Error) || !strings.Contains(*main.Error, "Retry") {
		t.Errorf("owner's snapshot shows the main slot's error as %q; want the safe sentence", deref(main.Error))
	}
	var j pack.Job
	b.query(t, tok, "job.get", map[string]any{"id": jobID}).decode(t, &j)
	if j.LastError == nil || leaks(*j.LastError) {
		t.Errorf("owner's job.get lastError %q; want the safe sentence", deref(j.LastError))
	}
	admin := token(t, "ops", auth.RoleService)
	b.query(t, admin, "job.get", map[string]any{"id": jobID}).decode(t, &j)
	if j.LastError == nil || *j.LastError != internal {
		t.Errorf("service role's job.get lastError %q; want the stored error in full", deref(j.LastError))
	}
}

// deref is *s, or "<nil>".
func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
