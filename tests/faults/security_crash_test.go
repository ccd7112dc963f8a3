//go:build faults

package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashByProcedureName is issue 13, item 1, against a real serve process: GET
// /trpc/%ff and its JSONL batch form used to kill the process (the caller's procedure
// name became a Prometheus label, invalid UTF-8 panicked in a batch goroutine). Each
// request gets a clean NOT_FOUND, /healthz still answers after each, and random names add
// no metric series.
func TestCrashByProcedureName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newScenario(t, nil)
	srv := s.serve(ctx, "serve", nil)
	random := fmt.Sprintf("zz%x", rand.Uint64())
	attacks := []struct {
		name, method, path string
		header             []string
	}{
		{"GET %ff", "GET", "/trpc/%ff", nil},
		{"POST %ff", "POST", "/trpc/%ff", nil},
		{"batch", "GET", "/trpc/%ff,%c3%28?batch=1", nil},
		{"JSONL batch", "GET", "/trpc/%ff,%fe?batch=1", []string{"trpc-accept", "application/jsonl"}},
		{"JSONL batch, Accept", "POST", "/trpc/%ff?batch=1", []string{"Accept", "application/jsonl"}},
		{"random name", "GET", "/trpc/" + random, nil},
		{"random method", "PURGE" + strconv.Itoa(rand.IntN(1000)), "/trpc/x", nil},
	}
	for _, a := range attacks {
		req, _ := http.NewRequestWithContext(ctx, a.method, srv.baseURL()+a.path, nil)
		for i := 0; i+1 < len(a.header); i += 2 {
			req.Header.Set(a.header[i], a.header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v (the server died?)", a.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d %s", a.name, resp.StatusCode, b)
		}
		if !healthy(ctx, srv) {
			t.Fatalf("after %s the server no longer answers /healthz", a.name)
		}
	}
	metrics := rawRequest(ctx, t, "GET", srv.baseURL()+"/metrics", "", "", nil)
	for _, line := range strings.Split(string(metrics.body), "\n") {
		if strings.Contains(line, random) || strings.Contains(line, "PURGE") || strings.Contains(line, `\xff`) {
			t.Errorf("a caller's name became a metric label: %s", line)
		}
	}
	if !strings.Contains(string(metrics.body), `packshot_trpc_calls_total{code="NOT_FOUND",path="(unknown)",transport="http"}`) {
		t.Errorf("unknown procedures are not counted under one fixed name")
	}
}

func healthy(ctx context.Context, p *proc) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL()+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && p.running()
}

// stallingBody sends first bytes, then blocks until the response arrived: a server that
// answers only after the whole body would never answer.
type stallingBody struct {
	ctx      context.Context
	head     string // sent first, then zeros
	first    int64
	sent     int64
	answered <-chan struct{}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.sent >= b.first {
		select {
		case <-b.answered:
		case <-b.ctx.Done():
		}
		return 0, io.ErrUnexpectedEOF
	}
	n := min(int64(len(p)), b.first-b.sent)
	clear(p[:n])
	if b.sent < int64(len(b.head)) {
		copy(p[:n], b.head[b.sent:])
	}
	b.sent += n
	return int(n), nil
}

// TestUnauthenticatedUploadUnread is issue 13, item 5: a 25 MB octet-stream (and
// multipart) upload without a token is answered 401 after the client sent its first
// 64 KiB, not after the server buffered all of it; the server then still answers.
func TestUnauthenticatedUploadUnread(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newScenario(t, nil)
	srv := s.serve(ctx, "serve", nil)
	for _, c := range []struct{ path, ct string }{
		{"/trpc/image.upload", "application/octet-stream"},
		{"/trpc/image.upload", "multipart/form-data; boundary=xyz"},
		{"/api/projects/00000000-0000-0000-0000-000000000000/source", "multipart/form-data; boundary=xyz"},
	} {
		answered := make(chan struct{})
		// Bounded only so a broken server fails the test instead of hanging it.
		reqCtx, reqCancel := context.WithTimeout(ctx, 15*time.Second)
		body := &stallingBody{ctx: reqCtx, first: 64 << 10, answered: answered}
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodPost, srv.baseURL()+c.path, body)
		req.ContentLength = 25 << 20
		req.Header.Set("Content-Type", c.ct)
		resp, err := http.DefaultClient.Do(req)
		close(answered)
		if err != nil {
			reqCancel()
			t.Fatalf("%s %s: no answer while the body was incomplete: %v", c.path, c.ct, err)
		}
		resp.Body.Close()
		reqCancel()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s: %d, want 401", c.path, c.ct, resp.StatusCode)
		}
		if !healthy(ctx, srv) {
			t.Fatalf("the server no longer answers /healthz")
		}
	}
}

// TestSlowLoris is issue 13, item 5: a client that sends its headers and one byte of a
// body, then nothing, is cut off once the read timeout passes (a JSON body and an
// upload); it does not hold the connection forever.
func TestSlowLoris(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_READ_TIMEOUT": "1s", "PACKSHOT_UPLOAD_READ_TIMEOUT": "1s"})
	srv := s.serve(ctx, "serve", nil)
	tok := token(t, "loris")
	for _, c := range []struct{ path, ct string }{
		{"/trpc/project.create", "application/json"},
		{"/trpc/image.upload", "application/octet-stream"},
		{"/api/projects/00000000-0000-0000-0000-000000000000/source", "multipart/form-data; boundary=xyz"},
	} {
		conn, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n{",
			c.path, srv.addr, tok, c.ct)
		// Bounded only so a broken server fails the test instead of hanging it.
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, err = io.Copy(io.Discard, bufio.NewReader(conn))
		conn.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: the server held a stalled body for 15 s (read timeout 1 s)", c.path)
		}
		if !healthy(ctx, srv) {
			t.Fatalf("the server no longer answers /healthz")
		}
	}
}

// TestEmbeddedClusterNotOrphaned is issue 13, item 1: a serve on its embedded PostgreSQL
// killed with SIGKILL (as a crash would) does not leave the postmaster running.
func TestEmbeddedClusterNotOrphaned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"PACKSHOT_DATA_DIR=" + dataDir, "AUTH_JWT_SECRET=" + jwtSecret, "PACKSHOT_WORKERS=1"}
	p := &proc{t: t, name: "serve-embedded", addr: freeAddr(t), env: env}
	p.args = []string{"serve", "-addr", p.addr}
	t.Cleanup(p.kill)
	p.start(ctx)
	pid := postmasterPID(t, filepath.Join(dataDir, "pg", "data"))
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGQUIT) // do not leave it behind when the test fails
		}
	})
	if !alive(pid) {
		t.Fatalf("postmaster %d is not running while serve is", pid)
	}
	p.kill()
	waitFor(ctx, t, "the postmaster to stop after its serve was killed", func(context.Context) (bool, error) {
		return !alive(pid), nil
	})
}

// postmasterPID reads the postmaster's pid from its data directory.
func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatalf("read postmaster.pid: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	return pid
}

// alive reports whether pid is a running postgres process (a zombie that nobody reaped
// does not count).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || !strings.Contains(s[:i], "postgres") {
		return false
	}
	fields := strings.Fields(s[i+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// TestUploadsInFlightCap is issue 13, item 5: with PACKSHOT_MAX_UPLOADS_IN_FLIGHT=1, an
// upload whose sender stalls holds the one slot; a second upload is refused at once with
// 503 SERVICE_UNAVAILABLE and Retry-After, on tRPC and on REST, before its body is read;
// once the first sender goes away, uploads are admitted again.
func TestUploadsInFlightCap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_MAX_UPLOADS_IN_FLIGHT": "1"})
	srv := s.serve(ctx, "serve", nil)
	good := api{base: srv.baseURL(), tok: token(t, "uploader")}
	var proj snapshot
	if err := good.call(ctx, true, "project.create", map[string]any{"name": "Cap"}, &proj); err != nil {
		t.Fatalf("project.create: %v", err)
	}

	// The first upload sends the start of a file part, 64 KiB of a 10 MB body, and
	// stalls: it holds the slot.
	stallCtx, stopStalling := context.WithCancel(ctx)
	holder := &stallingBody{ctx: stallCtx, first: 64 << 10, answered: stallCtx.Done(),
		head: "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"}
	held := make(chan struct{})
	go func() {
		defer close(held)
		req, _ := http.NewRequestWithContext(stallCtx, http.MethodPost, srv.baseURL()+"/trpc/image.upload", holder)
		req.ContentLength = 10 << 20
		req.Header.Set("Authorization", "Bearer "+good.tok)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if stallCtx.Err() == nil {
				t.Errorf("the stalled upload was answered before its sender went away: %d %s", resp.StatusCode, b)
			}
		}
	}()
	refused := func(path string) (response, bool) {
		r := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+path, good.tok, "multipart/form-data; boundary=xyz",
			&endless{head: "--xyz\r\n", n: 1 << 20})
		return r, r.status == http.StatusServiceUnavailable
	}
	waitFor(ctx, t, "the stalled upload to hold the slot", func(context.Context) (bool, error) {
		m := rawRequest(ctx, t, http.MethodGet, srv.baseURL()+"/metrics", "", "", nil)
		return strings.Contains(string(m.body), "\npackshot_uploads_in_flight 1\n"), nil
	})
	for _, path := range []string{"/trpc/image.upload", "/api/projects/" + proj.ID + "/source"} {
		r, ok := refused(path)
		if !ok || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "uploads in flight") {
			t.Errorf("%s over the cap: %d %v %s; want 503 with Retry-After naming the limit", path, r.status, r.header, r.body)
		}
	}
	if !healthy(ctx, srv) {
		t.Fatalf("the server no longer answers /healthz")
	}
	stopStalling()
	<-held
	var withPhoto snapshot
	waitFor(ctx, t, "an upload to be admitted once the stalled one is gone", func(ctx context.Context) (bool, error) {
		err := good.upload(ctx, proj.ID, productPhoto(t, 600, 600), &withPhoto)
		return err == nil && withPhoto.Source != nil, err
	})
}
