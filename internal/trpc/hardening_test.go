package trpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// labelObserver turns paths into Prometheus labels as the real adapter does (an invalid
// UTF-8 label value panics there) and remembers the paths it was told.
type labelObserver struct {
	calls *prometheus.CounterVec
	mu    sync.Mutex
	paths map[string]int
}

func newLabelObserver() *labelObserver {
	return &labelObserver{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calls_total", Help: "calls"}, []string{"path", "transport", "code"}),
		paths: map[string]int{},
	}
}

func (o *labelObserver) ConnOpened(Transport) {}
func (o *labelObserver) ConnClosed(Transport) {}
func (o *labelObserver) CallDone(path string, t Transport, code Code, _ time.Duration) {
	o.calls.WithLabelValues(path, string(t), string(code)).Inc()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.paths[path]++
}

// TestUnknownProcedureIsOneLabel sends procedure names that are invalid UTF-8 (which made
// the metric label panic inside a batch goroutine and killed the process) and random
// valid names (one new metric series each): the observer sees one fixed name for all of
// them, and the server goes on answering.
func TestUnknownProcedureIsOneLabel(t *testing.T) {
	t.Parallel()
	obs := newLabelObserver()
	b := setup(t, Config{Observer: obs})
	attacks := []struct {
		name, target string
		headers      []string
		status       int
	}{
		{"invalid UTF-8", "/trpc/%ff", nil, 404},
		{"invalid UTF-8 POST", "/trpc/%ff%fe", nil, 404},
		{"invalid UTF-8 batch", "/trpc/%ff,item.get?batch=1&input=%7B%221%22%3A%7B%22id%22%3A1%7D%7D", nil, 207},
		{"invalid UTF-8 JSONL batch", "/trpc/%ff,%c3%28?batch=1", []string{"trpc-accept", "application/jsonl"}, 200},
	}
	for _, a := range attacks {
		method := "GET"
		if strings.Contains(a.name, "POST") {
			method = "POST"
		}
		res := b.do(t, method, a.target, "", "", a.headers...)
		if res.status != a.status || !strings.Contains(res.body, `"NOT_FOUND"`) {
			t.Errorf("%s: got %d %s, want %d with NOT_FOUND", a.name, res.status, res.body, a.status)
		}
	}
	for range 50 {
		name := fmt.Sprintf("random.%x", rand.Uint64())
		if res := b.do(t, "GET", "/trpc/"+name, "", ""); res.status != 404 {
			t.Errorf("%s: got %d %s", name, res.status, res.body)
		}
	}
	if res := b.do(t, "GET", "/trpc/item.get?input=%7B%22id%22%3A1%7D", "", ""); res.status != 200 {
		t.Fatalf("the server stopped answering: %d %s", res.status, res.body)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for p := range obs.paths {
		if p != UnknownProcedure && b.router.procs[p] == nil {
			t.Errorf("observer saw the caller's name %q, want only registered names and %q", p, UnknownProcedure)
		}
	}
	if obs.paths[UnknownProcedure] != 55 {
		t.Errorf("unknown calls observed: %d, want 55 (%v)", obs.paths[UnknownProcedure], obs.paths)
	}
}

// panickyObserver panics when told about one path.
type panickyObserver struct{ path string }

func (o panickyObserver) ConnOpened(Transport) {}
func (o panickyObserver) ConnClosed(Transport) {}
func (o panickyObserver) CallDone(path string, _ Transport, _ Code, _ time.Duration) {
	if path == o.path {
		panic("observer exploded")
	}
}

// TestBatchGoroutinePanicIsRecovered makes a call panic outside the procedure (in the
// observer) in a batch and in a JSONL stream: that call answers INTERNAL_SERVER_ERROR,
// the panic is logged, and the process lives.
func TestBatchGoroutinePanicIsRecovered(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Observer: panickyObserver{path: "item.get"}})
	res := b.do(t, "GET", "/trpc/item.get,item.fail?batch=1&input=%7B%220%22%3A%7B%22id%22%3A1%7D%7D", "", "")
	if res.status != 500 || strings.Count(res.body, `"INTERNAL_SERVER_ERROR"`) != 2 {
		t.Errorf("batch: got %d %s", res.status, res.body)
	}
	res = b.do(t, "GET", "/trpc/item.get?batch=1&input=%7B%220%22%3A%7B%22id%22%3A1%7D%7D", "", "", "trpc-accept", "application/jsonl")
	if !strings.Contains(res.body, `"INTERNAL_SERVER_ERROR"`) {
		t.Errorf("JSONL: got %d %s", res.status, res.body)
	}
	if !strings.Contains(b.logs.String(), "observer exploded") {
		t.Errorf("the panic was not logged: %s", b.logs.String())
	}
}

// TestBatchConcurrencyIsBounded sends a batch of 100 calls, as JSON and as JSONL: at
// most MaxBatchConcurrency run at once.
func TestBatchConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	const bound, n = 3, 100
	for _, jsonl := range []bool{false, true} {
		r := NewRouter(Config{MaxBatchConcurrency: bound})
		var cur, peak atomic.Int64
		entered := make(chan struct{}, n)
		release := make(chan struct{})
		Query(r, "slow", func(ctx context.Context, in Void) (int, error) {
			c := cur.Add(1)
			defer cur.Add(-1)
			for {
				p := peak.Load()
				if c <= p || peak.CompareAndSwap(p, c) {
					break
				}
			}
			entered <- struct{}{}
			<-release
			return 1, nil
		})
		target := "/trpc/" + strings.TrimSuffix(strings.Repeat("slow,", n), ",") + "?batch=1"
		req := httptest.NewRequest("GET", target, nil)
		if jsonl {
			req.Header.Set("trpc-accept", "application/jsonl")
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); r.HTTPHandler().ServeHTTP(rec, req) }()
		for range bound { // the first calls are all in and blocked
			<-entered
		}
		close(release)
		<-done
		if got := peak.Load(); got != bound {
			t.Errorf("jsonl=%v: %d calls ran at once, want %d", jsonl, got, bound)
		}
		if got := strings.Count(rec.Body.String(), `"data":1`); rec.Code != 200 || got != n {
			t.Errorf("jsonl=%v: %d, %d results", jsonl, rec.Code, got)
		}
	}
}

// countingBody is an endless request body that counts what the server read of it.
type countingBody struct {
	read atomic.Int64
	size int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	left := c.size - c.read.Load()
	if left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > left {
		n = left
	}
	clear(p[:n])
	c.read.Add(n)
	return int(n), nil
}

func (c *countingBody) Close() error { return nil }

// TestUnauthenticatedUploadIsNotRead sends 25 MB uploads (octet-stream and multipart)
// and a JSON body to procedures that need a user, without credentials: 401 before a byte
// of the body is read. A public procedure still gets its body.
func TestUnauthenticatedUploadIsNotRead(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{
		AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
			return nil, errors.New("no token")
		},
	})
	Mutation(r, "image.upload", func(ctx context.Context, in FormData) (int, error) { return 1, nil })
	Mutation(r, "blob.upload", func(ctx context.Context, in Blob) (int, error) { return len(in.Data), nil })
	Mutation(r, "item.add", func(ctx context.Context, in addInput) (int, error) { return 1, nil })
	Mutation(r, "open.add", func(ctx context.Context, in addInput) (string, error) { return in.Name, nil }, Public())
	for _, tc := range []struct{ path, contentType string }{
		{"image.upload", "application/octet-stream"},
		{"image.upload", "multipart/form-data; boundary=x"},
		{"blob.upload", "application/octet-stream"},
		{"item.add", "application/json"},
		{"nope", "application/octet-stream"},
	} {
		body := &countingBody{size: 25 << 20}
		req := httptest.NewRequest("POST", "/trpc/"+tc.path, body)
		req.ContentLength = body.size
		req.Header.Set("Content-Type", tc.contentType)
		rec := httptest.NewRecorder()
		r.HTTPHandler().ServeHTTP(rec, req)
		want := 401
		if tc.path == "nope" {
			want = 404
		}
		if rec.Code != want || body.read.Load() != 0 {
			t.Errorf("%s %s: got %d %s after reading %d bytes of the body, want %d after none",
				tc.path, tc.contentType, rec.Code, rec.Body.String(), body.read.Load(), want)
		}
	}
	req := httptest.NewRequest("POST", "/trpc/open.add", strings.NewReader(`{"name":"a"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	r.HTTPHandler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"a"`) {
		t.Errorf("public procedure: %d %s", rec.Code, rec.Body.String())
	}
}

// TestUploadGate refuses an upload the gate does not admit, before its body is read,
// with the gate's error and Retry-After; an admitted upload releases its slot after the
// call, and a large octet-stream body arrives whole through the spool file.
func TestUploadGate(t *testing.T) {
	t.Parallel()
	var admitted, released atomic.Int64
	full := false
	r := NewRouter(Config{
		UploadMemoryBytes: 1024,
		UploadGate: func(req *http.Request) (func(), error) {
			if full {
				return nil, &Error{Code: CodeServiceUnavailable, Message: "Too many uploads in flight (limit 1)", RetryAfter: 2 * time.Second}
			}
			admitted.Add(1)
			return func() { released.Add(1) }, nil
		},
	})
	Mutation(r, "blob.upload", func(ctx context.Context, in Blob) (int, error) {
		if released.Load() != 0 {
			return 0, errors.New("slot released before the call ran")
		}
		for _, c := range in.Data {
			if c != 0 {
				return 0, errors.New("corrupt upload")
			}
		}
		return len(in.Data), nil
	})
	body := &countingBody{size: 3 << 20}
	req := httptest.NewRequest("POST", "/trpc/blob.upload", body)
	req.Header.Set("Content-Type", "application/octet-stream")
	rec := httptest.NewRecorder()
	r.HTTPHandler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != fmt.Sprintf(`{"result":{"data":%d}}`, 3<<20) || admitted.Load() != 1 || released.Load() != 1 {
		t.Fatalf("admitted upload: %d %s (admitted %d, released %d)", rec.Code, rec.Body.String(), admitted.Load(), released.Load())
	}
	full = true
	body = &countingBody{size: 3 << 20}
	req = httptest.NewRequest("POST", "/trpc/blob.upload", body)
	req.Header.Set("Content-Type", "application/octet-stream")
	rec = httptest.NewRecorder()
	r.HTTPHandler().ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), "limit 1") || body.read.Load() != 0 {
		t.Errorf("refused upload: %d %v %s after reading %d bytes", rec.Code, rec.Header(), rec.Body.String(), body.read.Load())
	}
}
