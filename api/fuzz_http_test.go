package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/storage"
	"github.com/packshot/packshot/internal/telemetry"
)

// FuzzHTTPSurface sends arbitrary requests — method, request target (raw, so invalid
// percent-encoding and invalid UTF-8 reach the server as an attacker would send them),
// credentials, headers and body — to the whole HTTP surface: the real Echo handler of
// api.NewServer with a real database, realtime broker and the metrics observer wired as
// `packshot serve` wires them, behind a loopback net/http server.
//
// The invariant is what the issue asks of every request: no panic (in the handler or in
// any goroutine it starts: those crash the fuzz binary, which the fuzzer reports with the
// input), no 5xx status and no INTERNAL_SERVER_ERROR envelope except 503, and the server
// still answers /healthz afterwards.
//
// Placeholders let the fuzzer reach real procedures: in the target, the headers and the
// body, {project} is a project of the caller's with a photo, {other} another user's
// project, {job} a job of the caller's, {file} a signed link to the project's photo and
// {token} the caller's token (for connectionParams in a URL).
// The auth byte picks the credentials (see fuzzAuth). Seeds live in
// testdata/fuzz/FuzzHTTPSurface: tRPC queries, mutations, batches, JSONL, SSE, WebSocket
// upgrades, REST calls and uploads.
func FuzzHTTPSurface(f *testing.F) {
	fz := newFuzzServer(f)
	f.Add("GET", "/trpc/project.get?input=%7B%22id%22%3A%22{project}%22%7D", uint8(1), "", []byte(nil))
	f.Add("GET", "/healthz", uint8(0), "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, target string, authSel uint8, headers string, body []byte) {
		fz.check(t, method, target, authSel, headers, body)
	})
}

// fuzzServer is the server under fuzzing and the fixtures the placeholders name.
type fuzzServer struct {
	addr  string
	repl  *strings.Replacer
	creds []string // Authorization / Cookie header lines, by fuzzAuth index

	mu     sync.Mutex
	panics []string // panics recovered in handler goroutines
}

// fuzzAuth names the credentials the auth byte selects (index modulo the length).
var fuzzAuth = []string{
	"none", "user", "other user", "service_role", "garbage", "expired", "forged",
	"cookie", "basic", "empty bearer", "connectionParams-shaped",
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	d := pgtest.New(f)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	blobs, signer, verifier := testParts(f)
	metrics := telemetry.New()
	links := api.NewPackLinks(signer, time.Hour)
	var broker *realtime.Broker
	nt := notifiertest.New(f, d.Pool, notifier.Config{Logger: logger, Metrics: metrics.Notifier()})
	rtMetrics := metrics.Realtime()
	pub := realtime.NewPublisher(nt, realtime.PublisherConfig{Metrics: rtMetrics, Logger: logger})
	// No dispatcher: jobs stay pending. The target is the HTTP surface, and a fuzzer that
	// starts packs must not spend the machine's CPU rendering them.
	svc := newTestPack(f, testPackOptions{
		store: d.Store, blobs: pack.StorageBlobs(blobs, signer, time.Hour), logger: logger,
		packURL: links.URL, profile: testProfile,
		announcer: announcerFuncs{changed: func(ch pack.Change) {
			pub.Publish(realtime.Change{ProjectID: ch.ProjectID, UserID: ch.UserID, Version: ch.Version})
		}},
		queue: queue.Config{Notifier: nt, MaxWorkers: 1},
	}).svc
	broker = realtime.New(realtime.Config{
		Notifier: nt, Publisher: pub, Hub: api.RealtimeHubConfig(svc), Metrics: rtMetrics, Logger: logger,
	})
	for _, c := range []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{pub, broker} {
		if err := c.Start(context.Background()); err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = c.Stop(context.Background()) })
	}
	h := api.NewServer(api.Deps{
		Logger: logger, Store: d.Store, ReadyFunc: func(context.Context) error { return broker.Healthy() },
		Metrics: metrics, TRPCObserver: metrics.TRPC(), Realtime: broker,
		Pack: svc, Verifier: verifier, PackLinks: links,
		Files: storage.NewFileServer(blobs, signer),
		// The seed corpus is written in plain JSON; superjson decoding has its own fuzz
		// target in internal/trpc (FuzzSuperJSONReferences).
		Transformer: "json",
		DevTokenFunc: func(user, role string) (string, error) {
			return auth.Issue(testSecret, user, role, time.Hour)
		},
	})
	fz := &fuzzServer{}
	// net/http recovers a handler's panic and only logs it; record it instead, so the
	// fuzz function fails with its stack. (A panic in another goroutine still crashes the
	// binary, and the fuzzer keeps that input.)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				fz.mu.Lock()
				fz.panics = append(fz.panics, fmt.Sprintf("%v\n%s", p, debug.Stack()))
				fz.mu.Unlock()
				panic(http.ErrAbortHandler)
			}
		}()
		h.ServeHTTP(w, r)
	}))
	f.Cleanup(srv.Close)
	fz.addr = srv.Listener.Addr().String()

	issue := func(user, role, secret string, ttl time.Duration) string {
		tok, err := auth.Issue(secret, user, role, ttl)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	userTok := issue("fuzz-user", "authenticated", testSecret, 24*time.Hour)
	otherTok := issue("fuzz-other", "authenticated", testSecret, 24*time.Hour)
	fz.creds = []string{
		"",
		"Authorization: Bearer " + userTok,
		"Authorization: Bearer " + otherTok,
		"Authorization: Bearer " + issue("fuzz-admin", "service_role", testSecret, 24*time.Hour),
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl",
		"Authorization: Bearer " + expiredToken(f),
		"Authorization: Bearer " + issue("fuzz-user", "authenticated", "not-the-server-secret-0123456789abcdef", time.Hour),
		"Cookie: " + api.TokenCookie + "=" + userTok,
		"Authorization: Basic Zm9vOmJhcg==",
		"Authorization: Bearer ",
		"Authorization: " + userTok,
	}

	// Fixtures: the caller's project with a photo and a pack's pending jobs, another
	// user's project, and the photo's signed link.
	photo := fuzzPhoto(f)
	var own, other pack.Snapshot
	fz.fixture(f, userTok, "project.create", "application/json", strings.NewReader(`{"name":"Fuzz bottle","title":"Steel bottle"}`), &own)
	fz.fixture(f, otherTok, "project.create", "application/json", strings.NewReader(`{"name":"Not yours"}`), &other)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("projectId", own.ID.String())
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	_, _ = fw.Write(photo)
	_ = mw.Close()
	var withPhoto pack.Snapshot
	fz.fixture(f, userTok, "image.upload", mw.FormDataContentType(), &form, &withPhoto)
	var jobs pack.Jobs
	fz.fixture(f, userTok, "image.generateCompletePack", "application/json",
		strings.NewReader(`{"projectId":"`+own.ID.String()+`","idempotencyKey":"fuzz"}`), &jobs)
	if withPhoto.Source == nil || len(jobs.Jobs) == 0 {
		f.Fatalf("fixtures: photo %v, %d jobs", withPhoto.Source, len(jobs.Jobs))
	}
	fz.repl = strings.NewReplacer(
		"{project}", own.ID.String(), "{other}", other.ID.String(),
		"{job}", jobs.Jobs[0].ID.String(), "{file}", withPhoto.Source.URL, "{token}", userTok,
	)
	return fz
}

// expiredToken is a token for fuzz-user, signed with the server's secret, that expired an
// hour ago.
func expiredToken(f *testing.F) string {
	f.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "fuzz-user", "role": "authenticated", "aud": "authenticated",
		"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	return tok
}

// fixture makes one tRPC mutation for the fixtures and decodes its data into out.
func (fz *fuzzServer) fixture(f *testing.F, tok, path, contentType string, body io.Reader, out any) {
	f.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+fz.addr+"/trpc/"+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Result struct {
			Data json.RawMessage `json:"data"`
		} `json:"result"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &env) != nil || json.Unmarshal(env.Result.Data, out) != nil {
		f.Fatalf("fixture %s: %d %.300s", path, resp.StatusCode, raw)
	}
}

// internalError finds a 5xx other than 503 inside a body: a tRPC error envelope (in a
// batch, a JSONL stream or an SSE event) or problem JSON.
var internalError = regexp.MustCompile(`"code":"INTERNAL_SERVER_ERROR"|"httpStatus":5(0[0-24-9]|[1-9][0-9])|"status":5(0[0-24-9]|[1-9][0-9])[,}]`)

// check sends one fuzzed request and asserts the invariant.
func (fz *fuzzServer) check(t *testing.T, method, target string, authSel uint8, headers string, body []byte) {
	target = fz.repl.Replace(target)
	if target == "" || strings.ContainsAny(target, " \r\n") || strings.ContainsAny(method, " \r\n") || method == "" {
		return // not a request line: net/http answers 400 before any of our code runs
	}
	body = []byte(fz.repl.Replace(string(body)))
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, fz.addr)
	if c := fz.creds[int(authSel)%len(fz.creds)]; c != "" {
		raw.WriteString(c + "\r\n")
	}
	connection := false
	for _, line := range strings.Split(fz.repl.Replace(headers), "\n") {
		line = strings.TrimRight(line, "\r")
		name, _, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		// The body is framed by Content-Length alone: a header that disagrees would only
		// make the server wait for bytes that never come.
		if !ok || name == "" || name == "content-length" || name == "transfer-encoding" || name == "host" || name == "expect" {
			continue
		}
		connection = connection || name == "connection"
		raw.WriteString(line + "\r\n")
	}
	if !connection { // a WebSocket upgrade brings its own
		raw.WriteString("Connection: close\r\n")
	}
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(body))
	raw.Write(body)

	status, got, err := fz.roundTrip(raw.Bytes(), 5*time.Second)
	what := fmt.Sprintf("%s %q (auth %s, headers %q, body %.200q)", method, target, fuzzAuth[int(authSel)%len(fuzzAuth)], headers, body)
	fz.failOnPanic(t, what)
	switch {
	case err != nil:
		// A request the server did not answer in time (a long-poll or subscription that
		// waits for a change) is not a failure of the invariant; a dead server is, below.
		t.Logf("%s: %v", what, err)
	case status >= 500 && status != http.StatusServiceUnavailable:
		t.Fatalf("%s: HTTP %d: %.500s", what, status, got)
	case internalError.Match(got):
		t.Fatalf("%s: HTTP %d with a server error inside: %.500s", what, status, got)
	default:
		t.Logf("%s: HTTP %d %.300s", what, status, got)
	}

	hs, hbody, err := fz.roundTrip([]byte("GET /healthz HTTP/1.1\r\nHost: "+fz.addr+"\r\nConnection: close\r\n\r\n"), 10*time.Second)
	fz.failOnPanic(t, what)
	if err != nil || hs != http.StatusOK {
		t.Fatalf("after %s: /healthz answered %d %q (%v)", what, hs, hbody, err)
	}
}

// roundTrip writes one raw request on a new connection and reads the status and up to
// 256 KiB of the body: to EOF, or for a stream (SSE, JSONL, a WebSocket) for a moment.
func (fz *fuzzServer) roundTrip(req []byte, timeout time.Duration) (int, []byte, error) {
	conn, err := net.DialTimeout("tcp", fz.addr, timeout)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(req); err != nil {
		return 0, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") || resp.StatusCode == http.StatusSwitchingProtocols ||
		strings.Contains(ct, "jsonl") {
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	return resp.StatusCode, b, nil
}

// failOnPanic fails t with any panic a handler goroutine recovered since the last check.
func (fz *fuzzServer) failOnPanic(t *testing.T, what string) {
	t.Helper()
	fz.mu.Lock()
	p := fz.panics
	fz.panics = nil
	fz.mu.Unlock()
	if len(p) > 0 {
		t.Fatalf("%s: the handler panicked: %s", what, p[0])
	}
}

// fuzzPhoto is a 560×560 JPEG of a blue product on a light backdrop, big enough for the
// upload's size check.
func fuzzPhoto(f *testing.F) []byte {
	f.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 560, 560))
	for y := range 560 {
		for x := range 560 {
			c := color.RGBA{238, 238, 236, 255}
			if dx, dy := float64(x-280)/120, float64(y-280)/180; dx*dx+dy*dy <= 1 {
				c = color.RGBA{30, 70, 160, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}
