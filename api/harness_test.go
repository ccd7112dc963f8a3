package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/storage"
	"github.com/packshot/packshot/internal/telemetry"
)

const testSecret = "test-secret-0123456789abcdef0123456789abcdef"

// testBundle is a real packshot server on a fresh database, with a running dispatcher.
type testBundle struct {
	url    string
	db     *pgtest.DB
	svc    *pack.Service
	queue  *queue.Client
	client *http.Client
	// start starts the dispatcher of a bundle set up with noWorker.
	start func()
	// guard is the AI guard the providers sit behind, when setupOptions.guard is set.
	guard *ai.Guard
}

// setupOptions change what setup builds.
type setupOptions struct {
	providers ai.Providers
	// noWorker leaves the dispatcher stopped (jobs stay pending) until start is called.
	noWorker bool
	// maxUpload caps uploads, in bytes; 0 means the default 25 MiB.
	maxUpload int64
	// guard, when set, puts the providers behind an ai.Guard so configured.
	guard *ai.GuardConfig
	// db, when set, is the database to use (another instance's); else a fresh one.
	db *pgtest.DB
	// spend are the pack service's AI spend limits; the zero value limits nothing.
	spend pack.SpendLimits
	// wrapBlobs, when set, wraps the pack service's blob store (to count reads, say).
	wrapBlobs func(pack.Blobs) pack.Blobs
}

func setup(t *testing.T, opts setupOptions) *testBundle {
	t.Helper()
	d := opts.db
	if d == nil {
		d = pgtest.New(t)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	blobs, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := storage.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	links := api.NewPackLinks(signer, time.Hour)
	providers := pack.ProvidersFrom(opts.providers)
	var guard *ai.Guard
	if opts.guard != nil {
		guard = ai.NewGuard(*opts.guard)
		providers.Generator = guard.Generator(providers.Generator)
		providers.BackgroundRemover = guard.BackgroundRemover(providers.BackgroundRemover)
	}
	packBlobs := pack.StorageBlobs(blobs, signer, time.Hour)
	if opts.wrapBlobs != nil {
		packBlobs = opts.wrapBlobs(packBlobs)
	}
	tp := newTestPack(t, testPackOptions{
		store: d.Store, blobs: packBlobs, providers: providers, logger: logger, packURL: links.URL,
		maxUpload: opts.maxUpload, spend: opts.spend, profile: testProfile,
		// Short backoff so retries never wait on real time.
		queue: queue.Config{MaxWorkers: 4, PollInterval: 200 * time.Millisecond, RetryBase: 5 * time.Millisecond, RetryCap: 20 * time.Millisecond},
	})
	svc, qc := tp.svc, tp.queue
	start := func() {
		if err := qc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !opts.noWorker {
		start()
	}
	verifier, err := auth.NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := api.NewServer(api.Deps{
		Logger: logger, Store: d.Store, ReadyFunc: func(context.Context) error { return nil },
		Metrics: telemetry.New(), Pack: svc, Verifier: verifier, PackLinks: links,
		Files: storage.NewFileServer(blobs, signer), MaxUploadBytes: opts.maxUpload,
		// The helpers below speak plain JSON; TestTRPCDefaultsToSuperJSON covers the default.
		Transformer: "json",
		DevTokenFunc: func(user, role string) (string, error) {
			return auth.Issue(testSecret, user, role, time.Hour)
		},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testBundle{url: srv.URL, db: d, svc: svc, queue: qc, client: srv.Client(), start: start, guard: guard}
}

// testCanvas is the side of the canvas tests render on instead of the marketplaces'
// 2000 px: a tenth of the pixels, so packs stay fast under the race detector. The size
// rules scale with it; every other rule is the marketplace's own.
const testCanvas = 640

func testProfile(marketplace string) (imaging.Profile, error) {
	p, err := imaging.ProfileFor(marketplace)
	p.Width, p.Height = testCanvas, testCanvas
	p.MinLongestSide = min(p.MinLongestSide, testCanvas)
	p.RecommendedLongestSide = min(p.RecommendedLongestSide, testCanvas)
	return p, err
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// token returns a valid token for user.
func token(t *testing.T, user, role string) string {
	t.Helper()
	tok, err := auth.Issue(testSecret, user, role, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// trpcResult is one tRPC answer: the data, or the error envelope.
type trpcResult struct {
	status int
	Result *struct {
		Data json.RawMessage `json:"data"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
		Data    struct {
			Code        string            `json:"code"`
			HTTPStatus  int               `json:"httpStatus"`
			FieldErrors map[string]string `json:"fieldErrors"`
			// RetryAfterSeconds comes with TOO_MANY_REQUESTS.
			RetryAfterSeconds int `json:"retryAfterSeconds"`
		} `json:"data"`
	} `json:"error"`
}

// code is the tRPC error code, or "" on success.
func (r trpcResult) code() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Data.Code
}

// decode unmarshals the data of a successful call into v.
func (r trpcResult) decode(t *testing.T, v any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("call failed: %d %s: %s", r.status, r.Error.Data.Code, r.Error.Message)
	}
	if err := json.Unmarshal(r.Result.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Result.Data, err)
	}
}

// query calls a tRPC query with GET.
func (b *testBundle) query(t *testing.T, tok, path string, input any) trpcResult {
	t.Helper()
	u := b.url + "/trpc/" + path
	if input != nil {
		raw, _ := json.Marshal(input)
		u += "?input=" + url.QueryEscape(string(raw))
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(t, tok, req)
}

// mutate calls a tRPC mutation with POST.
func (b *testBundle) mutate(t *testing.T, tok, path string, input any) trpcResult {
	t.Helper()
	raw, _ := json.Marshal(input)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/trpc/"+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	return b.do(t, tok, req)
}

// upload calls image.upload with a FormData body.
func (b *testBundle) upload(t *testing.T, tok, projectID string, photo []byte) trpcResult {
	t.Helper()
	body, ct := multipartBody(t, map[string]string{"projectId": projectID}, photo)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/trpc/image.upload", body)
	req.Header.Set("Content-Type", ct)
	return b.do(t, tok, req)
}

func (b *testBundle) do(t *testing.T, tok string, req *http.Request) trpcResult {
	t.Helper()
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := trpcResult{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return r
}

func multipartBody(t *testing.T, fields map[string]string, photo []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if photo != nil {
		fw, err := mw.CreateFormFile("file", "photo.jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(photo)
	}
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

// rest sends a REST request and returns the response with its body read.
func (b *testBundle) rest(t *testing.T, tok, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, b.url+path, body)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// waitSettled long-polls GET /api/projects/:id until the project is no longer
// generating, and returns its snapshot. It never sleeps: each request returns as soon as
// the version changes.
func (b *testBundle) waitSettled(t *testing.T, tok, id string) pack.Snapshot {
	t.Helper()
	// A safety net for a hung pack, not a timing assertion: under the race detector on a
	// busy machine a pack takes tens of seconds.
	deadline := time.Now().Add(5 * time.Minute)
	etag := ""
	for time.Now().Before(deadline) {
		h := http.Header{}
		if etag != "" {
			h.Set("If-None-Match", etag)
		}
		resp, raw := b.rest(t, tok, http.MethodGet, "/api/projects/"+id+"?wait=20s", nil, h)
		switch resp.StatusCode {
		case http.StatusNotModified:
			continue
		case http.StatusOK:
		default:
			t.Fatalf("poll: %d %s", resp.StatusCode, raw)
		}
		var s pack.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		if s.Status != pack.StatusGenerating {
			return s
		}
		etag = resp.Header.Get("ETag")
	}
	t.Fatal("project still generating after 5 minutes")
	return pack.Snapshot{}
}

// productPhoto is a w×h JPEG of a product on a plain light backdrop: a blue rounded body
// with a textured label, the kind of photo the local cut-out handles.
func productPhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{238, 238, 236, 255}
	cx, cy := float64(w)/2, float64(h)/2
	rx, ry := float64(w)*0.22, float64(h)*0.32
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			c := bg
			if dx*dx+dy*dy <= 1 {
				c = color.RGBA{30, 70, 160, 255}
				if dy > -0.2 && dy < 0.3 {
					v := uint8(200 + (x*7+y*13)%40)
					c = color.RGBA{v, v - 30, 40, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testParts are the pieces every in-process server of these tests is built from: a blob
// store in a fresh temporary directory, the link signer and the token verifier, both on
// testSecret.
func testParts(t testing.TB) (*storage.FS, *storage.Signer, *auth.Verifier) {
	t.Helper()
	blobs, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := storage.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return blobs, signer, verifier
}
